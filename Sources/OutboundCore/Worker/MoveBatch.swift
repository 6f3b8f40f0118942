/// The moves waiting for the next commit, and whether the commit must be synchronous: a
/// batch with moves into `deferred/` or changed state files is committed at once (state
/// files' folder first, then the lines), and those moves made at once, so the schedule never
/// names a job that is not there yet.
struct MoveBatch {
    private var pending: [FileMove] = []
    /// A state file was written since the last commit.
    var stateChanged = false
    /// Whether a move into `deferred/` is among them.
    private(set) var hasDeferred = false

    var isEmpty: Bool { pending.isEmpty && !stateChanged }

    /// Whether this batch must be committed before the loop goes on.
    var needsSynchronousCommit: Bool { stateChanged || hasDeferred }

    mutating func add(_ move: FileMove) {
        pending.append(move)
        if move.to == .deferred { hasDeferred = true }
    }

    mutating func take() -> [FileMove] {
        defer {
            pending.removeAll(keepingCapacity: true)
            stateChanged = false
            hasDeferred = false
        }
        return pending
    }
}
