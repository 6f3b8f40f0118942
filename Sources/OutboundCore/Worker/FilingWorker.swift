import Glibc

/// Files finished jobs into their outcome folders on a thread of its own, once the audit
/// committer has their lines on disk: the renames and the folder fsyncs of one batch, while
/// the loop goes on sending and the intake thread goes on claiming. Batches that arrive while
/// one is being filed are filed together (one fsync per folder for all of them).
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
    /// Moves that failed, tried again with the next batch and at the stop.
    private var failed: [FileMove] = []

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

    /// True when nothing is queued or being filed.
    var isIdle: Bool {
        condition.lock()
        defer { condition.unlock() }
        return queued.isEmpty && !filing
    }

    /// Files everything queued, then ends the thread and waits for it.
    /// Files everything queued, tries failed moves once more, then ends the thread and waits
    /// for it; returns how many moves still failed (their jobs stay claimed, lines on disk).
    @discardableResult
    func stop() -> Int {
        thread.stop()
        condition.lock()
        let retry = failed
        failed.removeAll()
        condition.unlock()
        let stillFailing = filer.perform(retry, directories: directories)
        return stillFailing.count
    }

    private func run() {
        condition.lock()
        while true {
            if !queued.isEmpty {
                // Moves that failed before go again with this batch, once each: a failing
                // disk is retried as work arrives, never in a loop of its own.
                let moves = failed + queued
                failed.removeAll()
                queued.removeAll(keepingCapacity: true)
                filing = true
                condition.unlock()
                let failedNow = filer.perform(moves, directories: directories)
                condition.lock()
                failed = failedNow
                filing = false
                if queued.isEmpty {
                    condition.broadcast()
                    wake()
                }
                continue
            }
            if thread.isStopRequested { break }
            condition.wait()
        }
        thread.markFinished()
        condition.unlock()
    }
}
