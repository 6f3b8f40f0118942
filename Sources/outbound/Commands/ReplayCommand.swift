import OutboundCore

/// `outbound replay`: enqueue a saved set of jobs again, for integration tests.
enum ReplayCommand: CommandDefinition {
    static let summary = "enqueue saved job files again (e.g. a saved delivered/), rewriting URLs"
    static let options: [OptionSpec] = [.value("--rewrite", "FROM=TO", repeatable: true)]
    static let takesOperands = true

    static let help = """
    Usage: outbound replay SRC... [--rewrite FROM=TO]...

    Enqueues every job file in SRC (job files, or folders whose *.json files are taken in
    name order) as 'outbound enqueue' does: checked first, nothing written if any would
    be corrupt or refused. Jobs keep their file names and so their ids. With --rewrite, a
    URL that starts with FROM is made to start with TO (the first rule that matches); only
    the 'url' member's bytes change. The audit line 'enqueued' carries 'replayOf'.

    Options:
      --rewrite FROM=TO  rewrite URL prefixes (repeatable; split at the first '=')
    \(HelpText.common)

    Exit status: as enqueue: 0, 65 invalid or refused, 66 SRC missing, 74, 75, 78.
    """

    static func execute(_ invocation: Invocation, context: CommandContext) throws(CommandFailure) -> ExitCode {
        guard !invocation.operands.isEmpty else {
            throw CommandFailure(code: .usage, message: "replay needs at least one SRC file or folder (see outbound replay --help)")
        }
        var rules: [URLRewrite] = []
        for argument in invocation.allValues("--rewrite") {
            guard let rule = URLRewrite(argument: argument) else {
                throw CommandFailure(code: .usage, message: "--rewrite takes FROM=TO with a non-empty FROM, not '\(argument)'")
            }
            rules.append(rule)
        }
        let configuration = Enqueuing.LoadedConfiguration(invocation)
        let limit = configuration.maxJobBytes
        var files: [String] = []
        for source in invocation.operands {
            if FileSystem.isDirectory(source) {
                let names: [String]
                do { names = try DirectoryStream.names(in: source) } catch {
                    throw CommandFailure(code: .noInput, message: "\(error)")
                }
                files += names.filter(Spool.isJobName).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.map { "\(source)/\($0)" }
            } else {
                files.append(source)
            }
        }
        var sources: [Enqueuing.Source] = []
        for file in files {
            var bytes = try Enqueuing.read(file, limit: limit)
            if let rewritten = URLRewrite.apply(rules, to: bytes) { bytes = rewritten }
            sources.append(Enqueuing.Source(bytes: bytes, name: String(file.split(separator: "/").last ?? ""), origin: file,
                                            replayOf: file))
        }
        return try Enqueuing.run(sources, configuration: configuration, invocation)
    }
}
