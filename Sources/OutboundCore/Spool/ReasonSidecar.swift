/// The `NAME.reason` file beside a job in `failed/`, `refused/` or `corrupt/`: why it is
/// there, in one JSON object an operator can read and a script can parse.
public struct ReasonSidecar: Sendable {
    public var reason: String
    public var message: String
    public var at: Double
    public var job: String?
    public var clientId: String?
    public var attempts: Int?
    public var status: Int?
    public var error: String?

    public init(reason: String, message: String, at: Double, job: String? = nil, clientId: String? = nil,
                attempts: Int? = nil, status: Int? = nil, error: String? = nil) {
        self.reason = reason
        self.message = message
        self.at = at
        self.job = job
        self.clientId = clientId
        self.attempts = attempts
        self.status = status
        self.error = error
    }

    public func serialized() -> [UInt8] {
        var writer = JSONObjectWriter()
        writer.add("reason", reason)
        writer.add("message", message)
        writer.add("at", Timestamp.format(at))
        writer.add("job", job)
        writer.add("clientId", clientId)
        writer.add("attempts", attempts)
        writer.add("status", status)
        writer.add("error", error)
        return writer.finish() + [0x0A]
    }

    /// Writes `folder/jobName.reason` durably.
    public func write(beside jobName: String, in folder: String) throws {
        try FileSystem.writeAtomically(serialized(), to: "\(folder)/\(jobName).reason")
    }
}
