/// What the shell asks the core without changing it: the intake's room, whether retries
/// are due, how long to sleep.
extension DispatchCore {
    /// The room the intake thread may fill now (none once stopping).
    func intakeCredit(now: Double) -> Int {
        guard isRunning else { return 0 }
        return window.intakeCredit(heldByLoop: heldByLoop, retriesDue: retriesAreDue(at: now))
    }

    /// Whether a job in deferred/ is due for its next attempt at `now`.
    func retriesAreDue(at now: Double) -> Bool {
        schedule.nextDue.map { $0 <= now } ?? false
    }

    /// How long the loop may sleep: until the next due retry, timer, stop deadline or
    /// `--max-wait`, and never more than a second.
    ///
    /// A moment already past wakes the loop at once, so it counts only while the loop can act
    /// on it. A due retry counts while the run is running and the loop's own jobs leave room in
    /// the window (`roomForRetries` without the intake's reservation: the intake's credit gives
    /// way to due retries on the next pass). When they fill it, only a transfer, filing or
    /// token that ends makes room, and each of those wakes the loop. `--max-wait` counts until
    /// it has passed: after it the drain ends once only deferred jobs are left, and what leaves
    /// wakes the loop. Otherwise a drain whose transfers outlast `--max-wait`, or a run whose
    /// window is full of slow transfers while retries are due, would poll without sleeping
    /// until they end.
    func sleepMilliseconds(now: Double) -> Int {
        var wake = now + 1.0
        if let due = schedule.nextDue,
           due > now || (isRunning && window.roomForRetries(heldByLoop: heldByLoop, reservedByIntake: 0) > 0) {
            wake = min(wake, due)
        }
        wake = min(wake, nextRecoveryAt, nextRescanAt)
        if case .stopping(let deadline) = lifecycle { wake = min(wake, deadline) }
        if case .drain(let maxWait?) = mode, startedAt + maxWait > now { wake = min(wake, startedAt + maxWait) }
        return max(0, Int(((wake - now) * 1000).rounded(.up)))
    }
}
