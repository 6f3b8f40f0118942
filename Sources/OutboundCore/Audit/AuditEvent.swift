/// The audit log's event names (contract section 8), spelled as the contract spells them.
public enum AuditEvent: String, Sendable, CaseIterable {
    case started, stopped, recovered, accepted, refused, corrupt, delivered, deferred, failed
    case configReloaded = "config_reloaded"
    case configRejected = "config_rejected"
    /// A token request to a client's OAuth 2.0 token endpoint (section 12).
    case token
}

/// One audit line. Only fields that apply are written. By construction it holds nothing
/// secret: URLs are stored redacted, header values never enter it, bodies only as a hash.
public struct AuditRecord: Sendable {
    public var event: AuditEvent
    public var at: Double
    public var job: String?
    /// The job's file name, so an operator can find it in the spool.
    public var file: String?
    public var clientId: String?
    public var attempt: Int?
    public var method: String?
    /// Always `TargetURL.redacted`: no query string, no userinfo.
    public var url: String?
    public var status: Int?
    public var error: String?
    public var reason: String?
    public var message: String?
    public var ms: Int?
    public var bytes: Int?
    public var bodySha256: String?
    public var nextAttemptAt: Double?
    public var pid: Int?
    public var version: String?
    /// Extra counters on `stopped` and `recovered` lines.
    public var count: Int?
    /// `token` lines: the issued token's lifetime in seconds.
    public var expiresIn: Int?
    /// `token` lines: the OAuth error code the token endpoint answered with.
    public var oauthError: String?

    public init(_ event: AuditEvent, at: Double) {
        self.event = event
        self.at = at
    }

    /// A line about one job, read from the claim-area file `file`: its id, client ID (if
    /// any), method and redacted URL; `attempt` where the event has one.
    public init(_ event: AuditEvent, at: Double, file: String, job: Job, attempt: Int? = nil) {
        self.init(event, at: at)
        self.job = job.id
        self.file = file
        clientId = job.clientId.isEmpty ? nil : job.clientId
        method = job.method.rawValue
        url = job.url.redacted
        self.attempt = attempt
    }

    /// The `accepted` line of a job that passed the gate at intake.
    public static func accepted(at: Double, file: String, job: Job) -> AuditRecord {
        var record = AuditRecord(.accepted, at: at, file: file, job: job)
        record.bytes = job.body?.count ?? 0
        record.bodySha256 = job.bodySha256
        return record
    }

    /// The line's bytes, without the newline.
    public func serialized() -> [UInt8] {
        var bytes: [UInt8] = []
        serialize(into: &bytes)
        return bytes
    }

    /// Appends the line's bytes, without the newline, to `buffer`.
    public func serialize(into buffer: inout [UInt8]) {
        JSONObjectWriter.append(to: &buffer) { writer in
            writer.addTimestamp("ts", at)
            writer.add("event", event.rawValue)
            writer.add("job", job)
            writer.add("file", file)
            writer.add("clientId", clientId)
            writer.add("attempt", attempt)
            writer.add("method", method)
            writer.add("url", url)
            writer.add("status", status)
            writer.add("error", error)
            writer.add("reason", reason)
            writer.add("message", message)
            writer.add("ms", ms)
            writer.add("bytes", bytes)
            writer.add("bodySha256", bodySha256)
            writer.addTimestamp("nextAttemptAt", nextAttemptAt)
            writer.add("pid", pid)
            writer.add("version", version)
            writer.add("count", count)
            writer.add("expiresIn", expiresIn)
            writer.add("oauthError", oauthError)
        }
    }
}
