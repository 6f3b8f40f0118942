import COutbound
import Glibc

/// Starts the dispatcher's helper threads (intake, audit committer, filing).
///
/// They run under SCHED_BATCH: a helper woken by a finished fsync or a new batch does not
/// preempt the loop thread in the middle of its work, it runs when a core is free (the loop
/// sleeps in `poll` whenever it waits for anything). On a two-core machine shared with the
/// receiver this measurably cuts context switches; the helpers still get their fair share.
enum HelperThread {
    /// Starts a detached POSIX thread named `name` (at most 15 bytes, the kernel's limit)
    /// running `body`. A process that cannot start its helpers cannot work: failing to is fatal.
    static func start(named name: String, _ body: @escaping @Sendable () -> Void) {
        let start = Unmanaged.passRetained(ThreadStart(name: name, body: body)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { argument in
            let start = Unmanaged<ThreadStart>.fromOpaque(argument!).takeRetainedValue()
            _ = outbound_thread_set_name(start.name)
            _ = outbound_thread_set_batch()
            start.body()
            return nil
        }, start)
        guard result == 0 else {
            Unmanaged<ThreadStart>.fromOpaque(start).release()
            fatalError("outbound: cannot start the \(name) thread: \(String(cString: strerror(result)))")
        }
        pthread_detach(thread)
    }

    /// What a new thread runs, passed through pthread_create's one pointer.
    private final class ThreadStart: Sendable {
        let name: String
        let body: @Sendable () -> Void

        init(name: String, body: @escaping @Sendable () -> Void) {
            self.name = name
            self.body = body
        }
    }
}

/// A helper thread started once and ended on request: the life the intake, the audit
/// committer and the filing worker share. Its `condition` also guards its owner's own state, so a
/// request and the work that comes with it are seen together.
///
/// `@unchecked Sendable`: `started`, `stopRequested` and `finished` are touched only while
/// holding `condition`.
final class OnDemandThread: @unchecked Sendable {
    /// Guards the thread's life and wakes it; the owner's `ThreadCondition` when it shares one.
    let condition: ThreadSignal
    private let name: String
    private var started = false
    private var stopRequested = false
    private var finished = false

    /// `signal` is the owner's when the owner's state and the thread's life must be guarded by
    /// one lock (a request to stop must wake a thread that waits for work).
    init(named name: String, signal: ThreadSignal = ThreadSignal()) {
        self.name = name
        condition = signal
    }

    /// Starts the thread, running `body`, unless it runs already. Call with `condition` held.
    func startIfNeeded(_ body: @escaping @Sendable () -> Void) {
        guard !started else { return }
        started = true
        HelperThread.start(named: name, body)
    }

    /// Whether `stop` has been called. Read with `condition` held.
    var isStopRequested: Bool { stopRequested }

    /// The thread's last act, with `condition` held: lets `stop` return.
    func markFinished() {
        finished = true
        condition.broadcast()
    }

    /// Asks the thread to end once its work is done, and waits for it.
    func stop() {
        condition.lock()
        defer { condition.unlock() }
        guard started else { return }
        stopRequested = true
        condition.broadcast()
        while !finished { condition.wait() }
    }
}
