import OutboundCore

/// `outbound enqueue`: the safe way for upstream systems to drop a job.
enum EnqueueCommand: CommandDefinition {
    static let summary = "check jobs against Config and drop them into incoming/ the safe way"
    static let options: [OptionSpec] = []
    static let takesOperands = true

    static let help = """
    Usage: outbound enqueue FILE... | -

    Decodes each job and checks it at the client-ID gate against Config; if every one
    would be accepted, writes each in tmp/, fsyncs it, renames it into incoming/ without
    replacing anything (an existing name is an error), fsyncs incoming/ and prints the
    file name used, one per line. A job file keeps its name (its id defaults to it); a
    job read from standard input ('-') is named ID.json after its 'id', else a fresh name.
    Nothing is written for a job that would be corrupt or refused.

    Options:
    \(HelpText.common)

    Exit status: 0 enqueued, 65 a job invalid or refused (the reason on stderr) or its
    name in use in incoming/, 66 a FILE missing, 74 audit log unwritable, 75 spool not
    writable, 78 bad config.
    """

    static func execute(_ invocation: Invocation, context: CommandContext) throws(CommandFailure) -> ExitCode {
        guard !invocation.operands.isEmpty else {
            throw CommandFailure(code: .usage, message: "enqueue needs a job FILE or - for standard input (see outbound enqueue --help)")
        }
        let configuration = Enqueuing.LoadedConfiguration(invocation)
        let limit = configuration.maxJobBytes
        var sources: [Enqueuing.Source] = []
        for operand in invocation.operands {
            let bytes = try Enqueuing.read(operand, limit: limit)
            let name = operand == "-" ? Enqueuer.nameForStandardInput(bytes) : String(operand.split(separator: "/").last ?? "")
            sources.append(Enqueuing.Source(bytes: bytes, name: name, origin: operand == "-" ? "standard input" : operand, replayOf: nil))
        }
        return try Enqueuing.run(sources, configuration: configuration, invocation)
    }
}
