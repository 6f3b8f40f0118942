import OutboundCore

/// `outbound audit verify|head|tail`: check the audit log's hash chain, print its head for
/// keeping elsewhere, follow it. None of them writes to the log.
enum AuditCommand: CommandDefinition {
    static let summary = "verify the audit log's hash chain, print its head, or follow it (verify|head|tail)"
    static let options: [OptionSpec] = [
        .value("--anchor", "SEQ:HASH"), .flag("-f"), .flag("--follow"), .value("--job", "ID"), .value("--client", "ID"),
        .value("--event", "EVENT", repeatable: true), .value("--since", "DURATION"), .flag("--json"),
    ]
    static let takesOperands = true

    static let help = """
    Usage: outbound audit verify [FILE...] [--anchor SEQ:HASH]
           outbound audit head
           outbound audit tail [-f] [--job ID] [--client ID] [--event EVENT]... [--since DURATION] [--json]

    Every audit line ends with "seq" (1, 2, ... across rotations and processes) and
    "prev", the SHA-256 of the line before it (sha256sum of its bytes without the
    newline); .state/audit.head beside the log keeps the last line's seq and hash.

    verify   checks the chain of the configured log, or of the FILEs named oldest
             first (rotated files, plain or .gz; end with the live log). Names the
             first line at fault: edited, deleted, inserted, reordered, or cut off the
             end (the live log's end is held against .state/audit.head).
               --anchor SEQ:HASH  also check against a head kept elsewhere (the
                                  output of 'outbound audit head')
    head     prints the head as one JSON line ({"seq":N,"sha256":"..."}), to ship
             off the machine (cron to a remote syslog): with it, even a rewrite of
             the whole log is caught by verify --anchor.
    tail     prints the log's lines readably (or as they are with --json); with -f
             (--follow) starts at the end and follows, across rotations, until
             interrupted. --job, --client, --event (repeatable) and --since (90d,
             12h, 30m, 45s) narrow what is shown.

    Options:
    \(HelpText.common)

    Exit status: 0 intact, 65 the chain is broken (verify), 64 usage, 74 a file
    cannot be read, 78 bad configuration.
    """

    static func execute(_ invocation: Invocation, context: CommandContext) throws(CommandFailure) -> ExitCode {
        guard let word = invocation.operands.first else {
            throw CommandFailure(code: .usage, message: "outbound audit needs verify, head or tail (see outbound audit --help)")
        }
        let rest = Array(invocation.operands.dropFirst())
        let log = try invocation.loadConfiguration().settings.auditLogPath
        switch word {
        case "verify": return try verify(log: log, files: rest, invocation)
        case "head":
            try noOperands(rest, "head")
            return try head(log: log)
        case "tail":
            try noOperands(rest, "tail")
            return try AuditTailing.run(log: log, invocation, context: context)
        default:
            throw CommandFailure(code: .usage, message: "unknown audit command '\(word)': verify, head or tail (see outbound audit --help)")
        }
    }

    private static func noOperands(_ rest: [String], _ word: String) throws(CommandFailure) {
        guard rest.isEmpty else {
            throw CommandFailure(code: .usage, message: "'outbound audit \(word)' takes no file arguments (got '\(rest[0])')")
        }
    }

    private static func verify(log: String, files: [String], _ invocation: Invocation) throws(CommandFailure) -> ExitCode {
        var anchor: AuditHead?
        if let text = invocation.value("--anchor") {
            guard let parsed = AuditVerification.parseAnchor(text) else {
                throw CommandFailure(code: .usage, message: "--anchor takes SEQ:HASH (a seq from 1 and 64 hex digits), not '\(text)'")
            }
            anchor = parsed
        }
        let report: AuditVerification.Report
        do {
            report = try AuditVerification(files: files, configuredLog: log, anchor: anchor).run()
        } catch {
            throw CommandFailure(code: .ioError, message: "audit verify: \(error)")
        }
        for note in report.notes { FileSystem.writeStandardError("outbound: note: \(note)\n") }
        if let fault = report.fault {
            throw CommandFailure(code: .dataError, message: "audit chain BROKEN: \(fault)")
        }
        let range = report.firstSeq.map { "seq \($0) to \(report.lastSeq ?? $0)" } ?? "no lines"
        let checked = files.isEmpty ? log : files.joined(separator: ", ")
        print("audit chain intact: \(report.lineCount) lines, \(range) (\(checked))")
        return .ok
    }

    private static func head(log: String) throws(CommandFailure) -> ExitCode {
        let head: AuditHead?
        do {
            head = try AuditHeadReader.current(log: log)
        } catch {
            throw CommandFailure(code: .ioError, message: "audit head: \(error)")
        }
        var writer = JSONObjectWriter()
        writer.add("seq", head?.seq ?? 0)
        writer.add("sha256", (head ?? .genesis).sha256Text)
        writer.add("log", log)
        writer.addTimestamp("ts", SystemClock().now())
        print(String(decoding: writer.finish(), as: UTF8.self))
        return .ok
    }
}
