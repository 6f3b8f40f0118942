import Glibc

/// A POSIX mutex for code that locks and unlocks in separate steps (a batch of renames taken
/// in turns). Blocking, not spinning: a thread that waits sleeps.
///
/// `@unchecked Sendable`: a pthread mutex is made for use from several threads; it lives in
/// an allocation of its own that never moves.
public final class ThreadLock: @unchecked Sendable {
    /// The mutex itself, for `ThreadCondition`'s waits; everyone else locks and unlocks.
    let mutex: UnsafeMutablePointer<pthread_mutex_t>

    public init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` holding the lock.
    public func withLock<Result>(_ body: () throws -> Result) rethrows -> Result {
        lock()
        defer { unlock() }
        return try body()
    }

    public func lock() { pthread_mutex_lock(mutex) }
    public func unlock() { pthread_mutex_unlock(mutex) }
}
