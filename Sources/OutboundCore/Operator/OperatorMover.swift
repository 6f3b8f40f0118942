/// Carries out `requeue`, `hold` and `release` (contract section 9) by rename(2) without
/// replacing, beside live dispatchers, one audit line per job.
///
/// The order is chosen so that no dispatcher ever acts on a job before its line is on disk,
/// and so that a race with a dispatcher is lost cleanly:
/// - into `hold/` (which no dispatcher takes from): rename first (a job a dispatcher claimed
///   meanwhile is gone, ENOENT, and reported as such), then the lines;
/// - into `incoming/` from a folder no dispatcher takes from: the lines first, then the rename;
/// - from `deferred/` into `incoming/` (requeue): first into `hold/`, which wins or loses the
///   race with the dispatcher that would claim it, then as from `hold/`. A crash in between
///   leaves the job held, where nothing sends it and `release` brings it back.
/// Retry state (`.state/NAME`) follows a job whose name changes on a clash; requeue removes
/// it and the `.reason` sidecar (whose content goes into the line). Nothing in `active/` is
/// ever touched.
public final class OperatorMover {
    /// What happened to one job.
    public enum Outcome: Sendable {
        /// Moved; `name` is its file name in the destination.
        case moved(SpoolJob, name: String)
        /// A dispatcher claimed it (or it went) before it could be moved: nothing was done.
        case claimedMeanwhile(SpoolJob)
        case failed(SpoolJob, String)
    }

    /// The audit log could not be written; jobs of the batch not yet moved stay where they were.
    public struct AuditWriteFailure: Error, CustomStringConvertible {
        public let underlying: Error
        public var description: String { "\(underlying)" }
    }

    private let spool: Spool
    private let audit: OperatorAudit
    private let stateStore: JobStateStore
    private let stateIndex: JobStateIndex
    private let clock: any WallClock
    static let batchSize = 1000

    public init(spool: Spool, audit: OperatorAudit, clock: any WallClock = SystemClock()) {
        self.spool = spool
        self.audit = audit
        self.clock = clock
        stateStore = JobStateStore(spool: spool)
        stateIndex = stateStore.makeIndex()
    }

    /// Acts on `jobs` (each in one of `action.sources`) in batches; `report` sees each outcome.
    public func perform(_ action: OperatorAction, on jobs: [SpoolJob], report: (Outcome) -> Void) throws(AuditWriteFailure) {
        let sidecars = SidecarRemoval()
        defer { sidecars.wait() }
        var unblockable: Set<String> = []
        var start = 0
        while start < jobs.count {
            let batch = jobs[start..<min(jobs.count, start + Self.batchSize)]
            start += Self.batchSize
            let outcomes = action == .hold ? try hold(batch) : try moveToIncoming(batch, action: action, removing: sidecars)
            for outcome in outcomes {
                if case .moved(let job, _) = outcome, job.folder == .failed || job.folder == .refused { unblockable.insert(job.name) }
                report(outcome)
            }
        }
        if action == .requeue && !unblockable.isEmpty { Self.unblockLanes(blockedBy: unblockable, spool: spool) }
    }

    /// A lane blocked by a job that leaves `failed/` or `refused/` goes on (contract 14).
    static func unblockLanes(blockedBy names: Set<String>, spool: Spool) {
        let markers = LaneMarkers(spool: spool)
        for blocked in markers.all() where names.contains(blocked.byJob) { markers.unblock(blocked.lane) }
    }

    private func hold(_ jobs: ArraySlice<SpoolJob>) throws(AuditWriteFailure) -> [Outcome] {
        var outcomes: [Outcome] = []
        var stateRenamed = false
        for job in jobs {
            do {
                let target = try Self.move(job, into: spool.path(.hold), statesIn: stateStore)
                if target != job.name, stateStore.rename(job.name, to: target, forFileAt: "\(spool.path(.hold))/\(target)") {
                    stateRenamed = true
                }
                let held = SpoolJob(folder: .hold, name: target, directory: spool.path(.hold))
                audit.append(record(.held, for: held, from: job.folder).line)
                outcomes.append(.moved(job, name: target))
            } catch let error as SystemError where error.isNotFound {
                outcomes.append(.claimedMeanwhile(job))
            } catch {
                outcomes.append(.failed(job, "\(error)"))
            }
        }
        do { try audit.flush() } catch { throw AuditWriteFailure(underlying: error) }
        if stateRenamed { try? FileSystem.syncDirectory(stateStore.directory) }
        try? FileSystem.syncDirectory(spool.path(.hold))
        return outcomes
    }

    private func moveToIncoming(_ jobs: ArraySlice<SpoolJob>, action: OperatorAction,
                                removing removal: SidecarRemoval) throws(AuditWriteFailure) -> [Outcome] {
        var outcomes: [Outcome] = []
        // (the job as named, where it is now, its sidecar's path if it goes)
        var recorded: [(job: SpoolJob, current: SpoolJob, sidecar: String?)] = []
        var staged = false
        for job in jobs {
            var current = job
            if job.folder == .deferred {
                do {
                    let target = try Self.move(job, into: spool.path(.hold), statesIn: stateStore)
                    if target != job.name { stateStore.rename(job.name, to: target, forFileAt: "\(spool.path(.hold))/\(target)") }
                    current = SpoolJob(folder: .hold, name: target, directory: spool.path(.hold))
                    staged = true
                } catch let error as SystemError where error.isNotFound {
                    outcomes.append(.claimedMeanwhile(job))
                    continue
                } catch {
                    outcomes.append(.failed(job, "\(error)"))
                    continue
                }
            }
            var (line, summary) = record(action.event, for: current, from: job.folder)
            var sidecarPath: String?
            if action == .requeue, let sidecar = summary.sidecar {
                line.reason = sidecar.reason
                line.message = sidecar.message
                line.attempt = sidecar.attempts
                line.status = sidecar.status
                line.error = sidecar.error
                sidecarPath = "\(job.path).reason"
            }
            audit.append(line)
            recorded.append((job, current, sidecarPath))
        }
        if staged { try? FileSystem.syncDirectory(spool.path(.hold)) }
        do { try audit.flush() } catch { throw AuditWriteFailure(underlying: error) }
        var stateChanged = false
        var sidecars: [String] = []
        stateIndex.refresh()
        for (job, current, sidecar) in recorded {
            if !action.keepsState, stateIndex.mayHaveState(current.name), stateStore.remove(current.name, ofFileAt: current.path) {
                stateChanged = true
            }
            do {
                let target = try Self.move(current, into: spool.path(.incoming), statesIn: action.keepsState ? stateStore : nil)
                if action.keepsState && target != current.name,
                   stateStore.rename(current.name, to: target, forFileAt: "\(spool.path(.incoming))/\(target)") {
                    stateChanged = true
                }
                if let sidecar { sidecars.append(sidecar) }
                outcomes.append(.moved(job, name: target))
            } catch let error as SystemError where error.isNotFound {
                outcomes.append(.failed(job, "it was moved by someone else after its '\(action.event.rawValue)' line was written; "
                    + "look for it with 'outbound show \(job.name)'"))
            } catch {
                outcomes.append(.failed(job, "\(error)"))
            }
        }
        // The sidecars of the jobs moved, while the next batch goes on (a crash before they go
        // leaves a sidecar without its job, which the census reports and nothing reads).
        removal.remove(sidecars)
        if stateChanged { try? FileSystem.syncDirectory(stateStore.directory) }
        try? FileSystem.syncDirectory(spool.path(.incoming))
        return outcomes
    }

    /// The line for `job` (read where it is now, with its sidecar if it has one), left `from`.
    private func record(_ event: AuditEvent, for job: SpoolJob, from: SpoolFolder) -> (line: AuditRecord, summary: JobSummary) {
        let summary = JobSummary.read(job, spool: spool, stateStore: stateStore, readsState: false)
        var line = AuditRecord(event, at: clock.now())
        line.job = summary.id ?? SpoolMover.originalStem(of: job.name)
        line.file = job.name
        line.clientId = summary.clientId
        line.from = from.rawValue
        return (line, summary)
    }

    /// Renames `job` into `folder` under its name, or a free clash name, never replacing; the
    /// name it got. Throws ENOENT when the job is gone. With `states`, where the job's state
    /// follows it, a clash name is also one no other job's state file has.
    static func move(_ job: SpoolJob, into folder: String, statesIn states: JobStateStore? = nil) throws -> String {
        // The usual case first: the name is free (the no-replace rename says so). Only a clash
        // costs the look for a free name. The folders operators move into, incoming/ and
        // hold/, hold no sidecars, so a free job name is a free name.
        if SpoolMover.fits(job.name) {
            do {
                try FileSystem.rename(job.path, to: "\(folder)/\(job.name)", replacing: false)
                return job.name
            } catch let error as SystemError where error.isAlreadyExists {}
        }
        let stateOwner = states == nil ? nil : FileSystem.inode(of: job.path)
        var attempt = 0
        while true {
            let target: String
            if let states, let stateOwner {
                target = try states.freeName(for: job.name, in: folder, forFileWithInode: stateOwner)
            } else {
                target = try SpoolMover.freeName(for: job.name, in: folder)
            }
            do {
                try FileSystem.rename(job.path, to: "\(folder)/\(target)", replacing: false)
                return target
            } catch let error as SystemError where error.isAlreadyExists && attempt < 5 {
                attempt += 1
            }
        }
    }
}
