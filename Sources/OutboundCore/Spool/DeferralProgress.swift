/// How far the jobs being set aside have got, for the loop to carry on from: a job is set
/// aside in three steps, its state saved (the filing thread), its `deferred` line made durable
/// (the audit committer), its move into `deferred/` (the filing thread); then the loop
/// schedules it.
struct DeferralProgress {
    /// State on disk under `target`: the loop appends the line and queues the move.
    var saved: [(deferral: Deferral, target: String)] = []
    /// State not saved, no line written: the job goes back where it came from.
    var unsaved: [(deferral: Deferral, error: SystemError)] = []
    /// In `deferred/` as `target` (its line named `recordedAs`; they differ after a clash):
    /// the loop schedules it.
    var filed: [(recordedAs: String, target: String, retry: RetryDue)] = []
    /// Line on disk, but the move into `deferred/` failed: the job is still claimed.
    var unmoved: [(move: FileMove, error: SystemError)] = []

    var isEmpty: Bool { saved.isEmpty && unsaved.isEmpty && filed.isEmpty && unmoved.isEmpty }

    static func += (progress: inout DeferralProgress, more: DeferralProgress) {
        progress.saved += more.saved
        progress.unsaved += more.unsaved
        progress.filed += more.filed
        progress.unmoved += more.unmoved
    }
}

/// When a job set aside in `deferred/` is due again, the ordered lane it holds there, and the
/// inode its state was saved for (a clash name at its move must be free for it in `.state/`).
struct RetryDue: Sendable {
    let due: Double
    let lane: LaneKey?
    let stateInode: UInt64
}
