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
    func sleepMilliseconds(now: Double) -> Int {
        var wake = now + 1.0
        if let due = schedule.nextDue { wake = min(wake, due) }
        wake = min(wake, nextRecoveryAt, nextRescanAt)
        if case .stopping(let deadline) = lifecycle { wake = min(wake, deadline) }
        if case .drain(let maxWait?) = mode { wake = min(wake, startedAt + maxWait) }
        return max(0, Int(((wake - now) * 1000).rounded(.up)))
    }
}
