import Glibc

/// Files finished jobs into their outcome folders on a thread of its own, once the audit
/// committer has their lines on disk: the renames and the folder fsyncs of one batch, while
/// the loop goes on sending and the intake thread goes on claiming. Batches that arrive while
/// one is being filed are filed together (one fsync per folder for all of them).
///
/// It also saves the state of jobs being set aside for a retry, before their lines (see
/// `DeferralProgress`): creating and fsyncing a state file takes the disk's time, which the
/// loop does not wait for.
///
/// `@unchecked Sendable`: every stored `var` is touched only while holding `condition` (the
/// thread's); `filer` and `directories` are used only by the filing thread.
final class FilingWorker: @unchecked Sendable {
    private let filer: SpoolFiler
    private let directories = DirectorySyncer()
    private let wake: @Sendable () -> Void
    private let thread = OnDemandThread(named: "outbound-filing")
    private var condition: ThreadSignal { thread.condition }

    // Guarded by `condition`.
    private var queued: [FileMove] = []
    private var filing = false
    /// Jobs being set aside whose state is still to be saved.
    private var statesToSave: [Deferral] = []
    private var savingStates = false
    /// What the deferrals came to since the loop last looked.
    private var deferralProgress = DeferralProgress()
    /// Moves that failed, tried again with the next batch and at the stop.
    private var failed: [FileMove] = []
    /// The first failed fsync of an outcome folder, until the loop takes it.
    private var syncFailure: SystemError?

    /// `wake` is called whenever the queue runs empty (a drain may be waiting for that).
    init(filer: SpoolFiler, wake: @escaping @Sendable () -> Void) {
        self.filer = filer
        self.wake = wake
    }

    /// Queues moves whose audit lines are on disk; from any thread.
    func file(_ moves: [FileMove]) {
        guard !moves.isEmpty else { return }
        condition.lock()
        defer { condition.unlock() }
        thread.startIfNeeded { [self] in run() }
        queued.append(contentsOf: moves)
        condition.broadcast()
    }

    /// Saves the state of a job being set aside, on the filing thread; the loop carries on
    /// from `takeDeferralProgress()`. From the loop.
    func saveState(for deferral: Deferral) {
        condition.lock()
        defer { condition.unlock() }
        thread.startIfNeeded { [self] in run() }
        statesToSave.append(deferral)
        condition.broadcast()
    }

    /// What the deferrals handed over came to since the last call. From the loop.
    func takeDeferralProgress() -> DeferralProgress {
        condition.lock()
        defer { condition.unlock() }
        let taken = deferralProgress
        deferralProgress = DeferralProgress()
        return taken
    }

    /// The states handed over that no turn has begun to save, taken back (at a stop, which
    /// then waits for one turn at most instead of the whole queue).
    func takeStatesNotStarted() -> [Deferral] {
        condition.lock()
        defer { condition.unlock() }
        let taken = statesToSave
        statesToSave.removeAll()
        return taken
    }

    /// Waits until every state handed over has been saved or has failed (at the end of a run,
    /// so that their lines can still be written).
    func waitForStates() {
        condition.lock()
        defer { condition.unlock() }
        while !statesToSave.isEmpty || savingStates { condition.wait() }
    }

    /// True when nothing is queued or being filed. (A drain also waits for the deferrals under
    /// way: the core counts them.)
    var isIdle: Bool {
        condition.lock()
        defer { condition.unlock() }
        return queued.isEmpty && !filing
    }

    /// A failed fsync of an outcome folder since the last call: the loop stops the process,
    /// since whether the moves are on disk is unknown and no later fsync can tell.
    func takeSyncFailure() -> SystemError? {
        condition.lock()
        defer { condition.unlock() }
        let taken = syncFailure
        syncFailure = nil
        return taken
    }

    /// Files everything queued, tries failed moves once more, then ends the thread and waits
    /// for it; returns how many moves still failed (their jobs stay claimed, lines on disk).
    /// A failed folder fsync meanwhile waits in `takeSyncFailure()`.
    @discardableResult
    func stop() -> Int {
        thread.stop()
        condition.lock()
        let retry = failed
        failed.removeAll()
        condition.unlock()
        let result = filer.perform(retry, directories: directories)
        condition.lock()
        syncFailure = syncFailure ?? result.syncFailure
        condition.unlock()
        return result.failed.count
    }

    /// At most this many states are saved before the moves waiting meanwhile are made.
    static let statesPerTurn = 8

    private func run() {
        condition.lock()
        while true {
            if !statesToSave.isEmpty {
                // A turn of states, then a turn of moves: a stream of deferrals does not keep
                // finished jobs claimed (sent again after a crash) for long.
                let deferrals = Array(statesToSave.prefix(Self.statesPerTurn))
                statesToSave.removeFirst(deferrals.count)
                savingStates = true
                condition.unlock()
                let saving = filer.saveStates(deferrals, directories: directories)
                condition.lock()
                deferralProgress += saving
                savingStates = false
                condition.broadcast()
                wake()
            }
            if !queued.isEmpty {
                // Moves that failed before go again with this batch, once each: a failing
                // disk is retried as work arrives, never in a loop of its own.
                let moves = failed + queued
                failed.removeAll()
                queued.removeAll(keepingCapacity: true)
                filing = true
                condition.unlock()
                let result = filer.perform(moves, directories: directories)
                condition.lock()
                failed = result.failed
                syncFailure = syncFailure ?? result.syncFailure
                deferralProgress += result.deferrals
                filing = false
                if queued.isEmpty || result.syncFailure != nil || !result.deferrals.isEmpty {
                    condition.broadcast()
                    wake()
                }
                continue
            }
            if !statesToSave.isEmpty { continue }
            if thread.isStopRequested { break }
            condition.wait()
        }
        thread.markFinished()
        condition.unlock()
    }
}
