/// The audit lines of one operator command: gathered per batch and written through the audit
/// log's own writer (`AuditLog.writeDurably`: one write, one fsync, sealed onto the hash chain
/// under its lock), never by opening the log here. No committer thread: a command that runs
/// for milliseconds has no loop to keep free of the disk.
public final class OperatorAudit {
    private let log: AuditLog
    /// `by` on every line.
    public let user: String
    private var pending: [UInt8] = []
    public private(set) var lineCount = 0

    public init(logPath: String, user: String = CurrentUser.name()) throws {
        log = try AuditLog(path: logPath)
        self.user = user
    }

    /// Queues `record` with `by` set.
    public func append(_ record: AuditRecord) {
        var record = record
        record.by = user
        record.serialize(into: &pending)
        pending.append(0x0A)
        lineCount += 1
    }

    /// Makes every queued line durable.
    public func flush() throws {
        guard !pending.isEmpty else { return }
        try log.writeDurably(pending)
        pending.removeAll(keepingCapacity: true)
    }
}
