import OutboundCore

/// `outbound show JOB`: everything about one job, without its payload unless asked.
enum ShowCommand: CommandDefinition {
    static let summary = "where a job is, its fields (no payload unless --body), retry state, sidecar, audit lines"
    static let options: [OptionSpec] = [.flag("--json"), .flag("--body")]
    static let takesOperands = true

    static let help = """
    Usage: outbound show JOB... [--json] [--body]

    For each JOB (an id, a file name, or FOLDER/FILE): the folder and file it is in, its
    fields, its retry state (attempts, first claim, next attempt), its .reason sidecar,
    and its lines from the audit log. Header values and the body are shown only as their
    length and SHA-256, and the URL without its query string, unless --body is given.

    Options:
      --json   one JSON object per job: folder, file, path, bytes, modifiedAt, job
               (id, clientId, method, url, service, headers [{name, length, sha256}],
               body {length, sha256}, maxAttempts, timeoutMs, notAfter, orderingKey),
               invalid (the decoder's message, for a job that does not decode), state,
               sidecar (as written), audit (the lines, as written)
      --body   also show header values, the body and the full URL
    \(HelpText.common)

    Exit status: 0, 66 a JOB not found.
    """

    static func execute(_ invocation: Invocation, context: CommandContext) throws(CommandFailure) -> ExitCode {
        let arguments = try invocation.jobArguments()
        guard !arguments.isEmpty else { throw CommandFailure(code: .usage, message: "show needs a JOB (see outbound show --help)") }
        let spool = invocation.spoolTree
        let configuration = try? invocation.loadConfiguration()
        let decoder = JobDecoder(clientIdHeader: configuration?.settings.clientIdHeader ?? "Epic-Client-ID",
                                 idempotencyHeader: configuration?.settings.idempotencyHeader ?? "Idempotency-Key")
        let logPath = configuration?.settings.auditLogPath ?? "\(spool.root)/audit.jsonl"
        let output = BufferedOutput()
        defer { output.flush() }
        var missing: [String] = []
        for argument in arguments {
            let found = JobLocator(spool: spool).locate(argument)
            if found.isEmpty { missing.append(argument) }
            for job in found {
                let view = JobView(job: job, spool: spool, decoder: decoder, auditLog: logPath, withPayload: invocation.has("--body"))
                if invocation.has("--json") { output.line(view.json()) } else { view.text(to: output) }
            }
        }
        guard missing.isEmpty else {
            output.flush()
            throw CommandFailure(code: .noInput, message: "no job " + missing.map { "'\($0)'" }.joined(separator: ", ")
                + " in \(spool.root) (looked for it as a file name and as an id in every folder)")
        }
        return .ok
    }
}
