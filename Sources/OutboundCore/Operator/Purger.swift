/// `purge` (contract section 9): deletes finished jobs (`delivered/`, `failed/`, `refused/`,
/// `corrupt/` only) with their sidecars and state, one `purged` line each, written before the
/// files go so that no deletion is ever off the record.
public struct Purger {
    /// The folders purge may empty.
    public static let folders: [SpoolFolder] = [.delivered, .failed, .refused, .corrupt]

    private let spool: Spool
    private let audit: OperatorAudit
    private let clock: any WallClock

    public init(spool: Spool, audit: OperatorAudit, clock: any WallClock = SystemClock()) {
        self.spool = spool
        self.audit = audit
        self.clock = clock
    }

    /// Deletes `jobs`; returns how many went. Throws when the audit log cannot be written
    /// (nothing of that batch is deleted then).
    public func purge(_ jobs: [SpoolJob], report: (SpoolJob, String?) -> Void) throws -> Int {
        let stateStore = JobStateStore(spool: spool)
        var purged = 0
        var unblockable: Set<String> = []
        var start = 0
        while start < jobs.count {
            let batch = jobs[start..<min(jobs.count, start + OperatorMover.batchSize)]
            start += OperatorMover.batchSize
            for job in batch {
                let summary = JobSummary.read(job, spool: spool, stateStore: stateStore)
                var line = AuditRecord(.purged, at: clock.now())
                line.job = summary.id ?? SpoolMover.originalStem(of: job.name)
                line.file = job.name
                line.clientId = summary.clientId
                line.from = job.folder.rawValue
                line.reason = summary.sidecar?.reason
                line.bytes = summary.bytes
                audit.append(line)
            }
            try audit.flush()
            for job in batch {
                do {
                    stateStore.remove(job.name, ofFileAt: job.path)
                    try FileSystem.remove(job.path)
                    try? FileSystem.remove("\(job.path).reason")
                    if job.folder == .failed || job.folder == .refused { unblockable.insert(job.name) }
                    purged += 1
                    report(job, nil)
                } catch {
                    report(job, "\(error)")
                }
            }
        }
        for folder in Set(jobs.map(\.folder)) { try? FileSystem.syncDirectory(spool.path(folder)) }
        if !unblockable.isEmpty { OperatorMover.unblockLanes(blockedBy: unblockable, spool: spool) }
        return purged
    }
}
