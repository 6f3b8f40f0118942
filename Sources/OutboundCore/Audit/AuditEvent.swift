/// The audit log's event names (contract section 8), spelled as the contract spells them.
public enum AuditEvent: String, Sendable, CaseIterable {
    case started, stopped, recovered, accepted, refused, corrupt, delivered, deferred, failed
    case configReloaded = "config_reloaded"
    case configRejected = "config_rejected"
    /// A token request to a client's OAuth 2.0 token endpoint (section 12).
    case token
    /// A spool system call failed while handling a job: the line names the call and the errno
    /// (never a path) and where the job went (contract section 2's last rule).
    case spoolError = "spool_error"
    /// A destination's circuit opened or closed (contract section 13).
    case destinationDown = "destination_down"
    case destinationUp = "destination_up"
    /// An incomplete last line, left by a write that was cut off, was removed (section 10).
    case auditRepaired = "audit_repaired"
    /// A job of an ordered lane was held because the lane is blocked, or blocked it (contract 14).
    case laneBlocked = "lane_blocked"
    /// Operator and upstream commands (contract section 9), each with `by`.
    case requeued, held, released, purged, enqueued
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
    /// On an outcome line: requests put on the wire in that attempt, written only when more
    /// than 1 (libcurl resent the request once on another connection).
    public var sends: Int?
    /// On `destination_down` / `destination_up`: "scheme://host:port".
    public var destination: String?
    /// On `destination_down` / `destination_up`: the consecutive failures that opened it.
    public var failures: Int?
    /// On `destination_down`: how long it stays down before one probe, in milliseconds.
    public var cooldownMs: Int?
    /// On `lane_blocked`: the file name of the job whose failure or refusal blocks the lane.
    public var blockedBy: String?
    /// On operator lines: the user name of whoever ran the command.
    public var by: String?
    /// On `requeued`, `held`, `released`, `purged`: the folder the job left.
    public var from: String?
    /// On `enqueued` by `replay`: the file the job was replayed from.
    public var replayOf: String?

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
            writer.add("sends", sends)
            writer.add("destination", destination)
            writer.add("failures", failures)
            writer.add("cooldownMs", cooldownMs)
            writer.add("blockedBy", blockedBy)
            writer.add("by", by)
            writer.add("from", from)
            writer.add("replayOf", replayOf)
        }
    }
}

extension AuditRecord {
    /// A `spool_error` line: `operation` failed with `error` while handling the job in `file`,
    /// which went `whereTo` ("put back in incoming/ for a later pass").
    public static func spoolError(at: Double, file: String?, error: SystemError, whereTo: String) -> AuditRecord {
        var record = AuditRecord(.spoolError, at: at)
        record.file = file
        record.job = file.map(SpoolMover.originalStem(of:))
        record.error = error.brief
        record.message = whereTo
        return record
    }
}
