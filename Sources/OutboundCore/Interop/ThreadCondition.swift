/// A lock, a condition variable and the state they guard, in one: the state is reachable only
/// through `withLock`, so no field of it can be read or written without the lock, and a type
/// that shares state with a thread needs no "touched only under the lock" comment per variable.
///
/// `withLock` lends the state for a short critical section. A thread that waits in a loop
/// uses `withLockHeld`, whose `Held` handle reads the state afresh at every access, so a value
/// changed by another thread during a `wait` is seen after it.
///
/// `@unchecked Sendable`: the state lives in an allocation of its own that never moves and is
/// only touched with the mutex held.
final class ThreadCondition<State>: ThreadSignal, @unchecked Sendable {
    private let storage: UnsafeMutablePointer<State>

    init(_ initial: State) {
        storage = .allocate(capacity: 1)
        storage.initialize(to: initial)
        super.init()
    }

    deinit {
        storage.deinitialize(count: 1)
        storage.deallocate()
    }

    /// Runs `body` with the lock held and the state lent to it.
    func withLock<Result>(_ body: (inout State) throws -> Result) rethrows -> Result {
        lock()
        defer { unlock() }
        return try body(&storage.pointee)
    }

    /// Runs `body` with the lock held; `body` may wait on the condition, or let the lock go
    /// for a while (`Held.unlocked`), through the handle it is given.
    func withLockHeld<Result>(_ body: (Held) throws -> Result) rethrows -> Result {
        lock()
        defer { unlock() }
        return try body(Held(owner: self))
    }

    /// The state and the condition, for a body that holds the lock.
    struct Held {
        fileprivate let owner: ThreadCondition<State>

        /// The shared state, read and written in place (never a copy kept across a wait).
        var state: State {
            get { owner.storage.pointee }
            nonmutating _modify { yield &owner.storage.pointee }
        }

        /// Sleeps until signalled (or woken spuriously), letting the lock go meanwhile.
        func wait() { owner.wait() }

        /// Sleeps until signalled or `seconds` have passed, letting the lock go meanwhile.
        func wait(seconds: Double) { owner.wait(seconds: seconds) }

        /// Runs `body` without the lock (for work others must not wait for), then takes it again.
        func unlocked<Result>(_ body: () throws -> Result) rethrows -> Result {
            owner.unlock()
            defer { owner.lock() }
            return try body()
        }
    }
}
