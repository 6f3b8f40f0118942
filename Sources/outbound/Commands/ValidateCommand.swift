import OutboundCore

/// `outbound validate FILE...`: decode and gate-check job files against Config, sending nothing.
enum ValidateCommand: CommandDefinition {
    static let summary = "check job files against Config without sending anything"
    static let options: [OptionSpec] = [.flag("--check-auth")]
    static let takesOperands = true

    static let help = """
    Usage: outbound validate FILE... [--check-auth] [--spool DIR] [--config DIR]

    Decodes each job file and checks it at the client-ID gate against Config, sending
    nothing. Prints one line per file: 'accepted', or the reason code and what is wrong.

    --check-auth  also ask the token endpoint of every client record with OAuth 'auth'
                  for a token, once, and print a line per record: 'token endpoint ok'
                  or why no token came (e.g. 'invalid_client (token endpoint answered
                  401)'). FILE may then be left out. Without it no endpoint is contacted.

    Options:
    \(HelpText.common)

    Exit status: 0 all accepted (and, with --check-auth, every token endpoint gave a
    token), 65 any file not accepted or any token refused, 64 no file given, 78 bad config.
    """

    static func execute(_ invocation: Invocation, context: CommandContext) throws(CommandFailure) -> ExitCode {
        let checksAuth = invocation.has("--check-auth")
        guard !invocation.operands.isEmpty || checksAuth else {
            throw CommandFailure(code: .usage, message: "validate needs at least one job file (see outbound validate --help)")
        }
        let configuration = try invocation.loadConfiguration()
        let decoder = JobDecoder(clientIdHeader: configuration.settings.clientIdHeader,
                                 idempotencyHeader: configuration.settings.idempotencyHeader)
        var allAccepted = true
        for file in invocation.operands {
            let verdict: String
            switch validate(file, decoder: decoder, gate: configuration.gate, maxBytes: configuration.settings.maxJobBytes) {
            case .accepted(let job):
                verdict = "accepted (job \(job.id), \(job.method.rawValue) \(job.url.redacted))"
            case .rejected(let outcome, let reason, let message):
                allAccepted = false
                verdict = "\(outcome) \(reason): \(message)"
            }
            print("\(file): \(verdict)")
        }
        if checksAuth && !AuthCheck.run(configuration) { allAccepted = false }
        return allAccepted ? .ok : .dataError
    }

    private enum Verdict {
        case accepted(Job)
        case rejected(outcome: String, reason: String, message: String)
    }

    private static func validate(_ file: String, decoder: JobDecoder, gate: Gate, maxBytes: Int) -> Verdict {
        let name = file.split(separator: "/").last.map(String.init) ?? file
        let contents: FileSystem.ReadResult
        do {
            contents = try FileSystem.readRegularFile(file, limit: maxBytes)
        } catch {
            return .rejected(outcome: "corrupt", reason: CorruptReason.unsupportedFile.rawValue, message: "\(error)")
        }
        switch contents {
        case .notRegularFile, .notAdmitted:
            return .rejected(outcome: "corrupt", reason: CorruptReason.unsupportedFile.rawValue, message: "not a regular file")
        case .tooLarge(let size, _):
            return .rejected(outcome: "corrupt", reason: CorruptReason.tooLarge.rawValue,
                             message: "the file has \(size) bytes or more; maxJobBytes is \(maxBytes)")
        case .contents(let bytes, _, _):
            do {
                let job = try decoder.decode(bytes, fileName: name)
                switch gate.check(job) {
                case .allowed: return .accepted(job)
                case .refused(let reason, let message):
                    return .rejected(outcome: "refused", reason: reason.rawValue, message: message)
                }
            } catch {
                return .rejected(outcome: "corrupt", reason: error.reason.rawValue, message: error.message)
            }
        }
    }
}
