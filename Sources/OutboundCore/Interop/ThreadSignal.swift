import Glibc

/// A POSIX mutex (a `ThreadLock`) and condition variable: how a helper thread and the threads
/// that hand it work take turns and wake each other. `ThreadCondition` adds the state they
/// share, reachable only with the lock held.
///
/// Timed waits run on the monotonic clock, so setting the system time neither cuts a wait
/// short nor stretches it.
///
/// `@unchecked Sendable`: pthread mutexes and condition variables are made for use from
/// several threads; they live in allocations of their own that never move.
class ThreadSignal: @unchecked Sendable {
    private let threadLock = ThreadLock()
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    init() {
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        condition.deallocate()
    }

    func lock() { threadLock.lock() }
    func unlock() { threadLock.unlock() }

    func withLock<Result>(_ body: () throws -> Result) rethrows -> Result {
        lock()
        defer { unlock() }
        return try body()
    }

    /// Sleeps until signalled (or woken spuriously). Call with the lock held.
    func wait() {
        pthread_cond_wait(condition, threadLock.mutex)
    }

    /// Sleeps until signalled or `seconds` have passed. Call with the lock held.
    func wait(seconds: Double) {
        var deadline = timespec()
        clock_gettime(CLOCK_MONOTONIC, &deadline)
        let wait = max(0, seconds)
        let whole = wait.rounded(.down)
        deadline.tv_sec += Int(whole)
        deadline.tv_nsec += Int((wait - whole) * 1_000_000_000)
        if deadline.tv_nsec >= 1_000_000_000 {
            deadline.tv_sec += 1
            deadline.tv_nsec -= 1_000_000_000
        }
        _ = pthread_cond_timedwait(condition, threadLock.mutex, &deadline)
    }

    func signal() { pthread_cond_signal(condition) }
    func broadcast() { pthread_cond_broadcast(condition) }
}
