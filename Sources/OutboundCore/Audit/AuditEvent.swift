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
///
/// A value with copy-on-write storage: a line passes from the dispatch core through its
/// action to the committer's queue, and each copy then takes one reference to its ~30 fields
/// instead of copying them and a reference to each of its strings.
public struct AuditRecord: Sendable {
    private var storage: Storage

    public var event: AuditEvent {
        get { storage.fields.event }
        set { uniqueStorage().fields.event = newValue }
    }

    public var at: Double {
        get { storage.fields.at }
        set { uniqueStorage().fields.at = newValue }
    }

    public var job: String? {
        get { storage.fields.job }
        set { uniqueStorage().fields.job = newValue }
    }

    /// The job's file name, so an operator can find it in the spool.
    public var file: String? {
        get { storage.fields.file }
        set { uniqueStorage().fields.file = newValue }
    }

    public var clientId: String? {
        get { storage.fields.clientId }
        set { uniqueStorage().fields.clientId = newValue }
    }

    public var attempt: Int? {
        get { storage.fields.attempt }
        set { uniqueStorage().fields.attempt = newValue }
    }

    public var method: String? {
        get { storage.fields.method }
        set { uniqueStorage().fields.method = newValue }
    }

    /// Always `TargetURL.redacted`: no query string, no userinfo.
    public var url: String? {
        get { storage.fields.url }
        set { uniqueStorage().fields.url = newValue }
    }

    public var status: Int? {
        get { storage.fields.status }
        set { uniqueStorage().fields.status = newValue }
    }

    public var error: String? {
        get { storage.fields.error }
        set { uniqueStorage().fields.error = newValue }
    }

    public var reason: String? {
        get { storage.fields.reason }
        set { uniqueStorage().fields.reason = newValue }
    }

    public var message: String? {
        get { storage.fields.message }
        set { uniqueStorage().fields.message = newValue }
    }

    public var ms: Int? {
        get { storage.fields.ms }
        set { uniqueStorage().fields.ms = newValue }
    }

    public var bytes: Int? {
        get { storage.fields.bytes }
        set { uniqueStorage().fields.bytes = newValue }
    }

    public var bodySha256: String? {
        get { storage.fields.bodySha256 }
        set { uniqueStorage().fields.bodySha256 = newValue }
    }

    public var nextAttemptAt: Double? {
        get { storage.fields.nextAttemptAt }
        set { uniqueStorage().fields.nextAttemptAt = newValue }
    }

    public var pid: Int? {
        get { storage.fields.pid }
        set { uniqueStorage().fields.pid = newValue }
    }

    public var version: String? {
        get { storage.fields.version }
        set { uniqueStorage().fields.version = newValue }
    }

    /// Extra counters on `stopped` and `recovered` lines.
    public var count: Int? {
        get { storage.fields.count }
        set { uniqueStorage().fields.count = newValue }
    }

    /// `token` lines: the issued token's lifetime in seconds.
    public var expiresIn: Int? {
        get { storage.fields.expiresIn }
        set { uniqueStorage().fields.expiresIn = newValue }
    }

    /// `token` lines: the OAuth error code the token endpoint answered with.
    public var oauthError: String? {
        get { storage.fields.oauthError }
        set { uniqueStorage().fields.oauthError = newValue }
    }

    /// On an outcome line: requests put on the wire in that attempt, written only when more
    /// than 1 (libcurl resent the request once on another connection).
    public var sends: Int? {
        get { storage.fields.sends }
        set { uniqueStorage().fields.sends = newValue }
    }

    /// On `destination_down` / `destination_up`: "scheme://host:port".
    public var destination: String? {
        get { storage.fields.destination }
        set { uniqueStorage().fields.destination = newValue }
    }

    /// On `destination_down` / `destination_up`: the consecutive failures that opened it.
    public var failures: Int? {
        get { storage.fields.failures }
        set { uniqueStorage().fields.failures = newValue }
    }

    /// On `destination_down`: how long it stays down before one probe, in milliseconds.
    public var cooldownMs: Int? {
        get { storage.fields.cooldownMs }
        set { uniqueStorage().fields.cooldownMs = newValue }
    }

    /// On `lane_blocked`: the file name of the job whose failure or refusal blocks the lane.
    public var blockedBy: String? {
        get { storage.fields.blockedBy }
        set { uniqueStorage().fields.blockedBy = newValue }
    }

    /// On operator lines: the user name of whoever ran the command.
    public var by: String? {
        get { storage.fields.by }
        set { uniqueStorage().fields.by = newValue }
    }

    /// On `requeued`, `held`, `released`, `purged`: the folder the job left.
    public var from: String? {
        get { storage.fields.from }
        set { uniqueStorage().fields.from = newValue }
    }

    /// On `enqueued` by `replay`: the file the job was replayed from.
    public var replayOf: String? {
        get { storage.fields.replayOf }
        set { uniqueStorage().fields.replayOf = newValue }
    }

    /// The storage is shared by copies until one of them changes a field.
    private mutating func uniqueStorage() -> Storage {
        if !isKnownUniquelyReferenced(&storage) { storage = Storage(storage.fields) }
        return storage
    }

    /// The fields. Changed only through `uniqueStorage()`, when no other copy shares it, which
    /// is what makes the unchecked `Sendable` safe: a shared box is never written.
    private final class Storage: @unchecked Sendable {
        var fields: Fields

        init(_ fields: Fields) {
            self.fields = fields
        }
    }

    private struct Fields {
        var event: AuditEvent
        var at: Double
        var job: String?
        var file: String?
        var clientId: String?
        var attempt: Int?
        var method: String?
        var url: String?
        var status: Int?
        var error: String?
        var reason: String?
        var message: String?
        var ms: Int?
        var bytes: Int?
        var bodySha256: String?
        var nextAttemptAt: Double?
        var pid: Int?
        var version: String?
        var count: Int?
        var expiresIn: Int?
        var oauthError: String?
        var sends: Int?
        var destination: String?
        var failures: Int?
        var cooldownMs: Int?
        var blockedBy: String?
        var by: String?
        var from: String?
        var replayOf: String?
    }

    public init(_ event: AuditEvent, at: Double) {
        storage = Storage(Fields(event: event, at: at))
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
