/// What the shell asks the core without changing it: the intake's room, whether retries
/// are due, how long to sleep.
extension DispatchCore {
    /// The room the intake thread may fill now (none once stopping).
    func intakeCredit(now: Double) -> Int {
        intakeRoom(now: now).credit
    }

    /// The room the intake thread may fill now, and the stalled destinations whose new jobs it
    /// leaves in incoming/ (`stalledDestinations`).
    func intakeRoom(now: Double) -> (credit: Int, stalled: Set<String>) {
        let stalled = stalledDestinations(now: now)
        guard isRunning else { return (0, stalled) }
        return (window.intakeCredit(heldByLoop: heldInWindow(stalled: stalled), retriesDue: retriesAreDue(at: now)), stalled)
    }

    /// Jobs the loop holds: ready, in flight, waiting (behind their lane's head, for a token),
    /// and being set aside past `ClaimWindow.deferralsOutside` of those.
    var heldByLoop: Int {
        ready.count + inFlight.count + lanes.waitingCount + awaitingToken.count + window.deferralsHeld(underway: deferralsUnderway)
    }

    /// The jobs the loop holds that take room in the claim window: all of them but those
    /// waiting for a `stalled` destination, up to one window of those. They can only wait,
    /// and counted they would keep every other partner's jobs out; past one window they count
    /// again (jobs that stay claimed for it: lane jobs, retries), so the process never holds
    /// more than two windows.
    func heldInWindow(stalled: Set<String>) -> Int {
        guard !stalled.isEmpty else { return heldByLoop }
        let waiting = ready.reduce(0) { $0 + (stalled.contains($1.hostKey) ? 1 : 0) }
        return heldByLoop - min(waiting, window.size)
    }

    /// Destinations at `perHostConcurrency` none of whose transfers has ended for a quarter
    /// of `timeoutMs`, at most 5 s (`HostLoad.stallSeconds`): a partner that accepts
    /// connections and never answers, or whose packets are dropped, long before its attempts
    /// time out and its circuit can open. The intake leaves their new jobs in incoming/
    /// meanwhile, so a backlog for such a partner cannot fill the claim window and hold up
    /// every other partner.
    func stalledDestinations(now: Double) -> Set<String> {
        hostLoad.stalled(at: now)
    }

    /// Whether a job in deferred/ is due for its next attempt at `now`.
    func retriesAreDue(at now: Double) -> Bool {
        schedule.nextDue.map { $0 <= now } ?? false
    }

    /// How long the loop may sleep: until the next due retry, timer, destination that would
    /// stall, stop deadline or `--max-wait`, and never more than a second.
    ///
    /// A moment already past wakes the loop at once, so it counts only while the loop can act
    /// on it. A due retry counts while the run is running and the loop's own jobs leave room in
    /// the window (`roomForRetries` of `heldInWindow`, without the intake's reservation: the
    /// intake's credit gives way to due retries on the next pass). When they fill it, only a transfer, filing or
    /// token that ends makes room, and each of those wakes the loop. `--max-wait` counts until
    /// it has passed: after it the drain ends once only deferred jobs are left, and what leaves
    /// wakes the loop. Otherwise a drain whose transfers outlast `--max-wait`, or a run whose
    /// window is full of slow transfers while retries are due, would poll without sleeping
    /// until they end.
    func sleepMilliseconds(now: Double) -> Int {
        var wake = now + 1.0
        if let due = schedule.nextDue, due > now
            || (isRunning && window.roomForRetries(heldByLoop: heldInWindow(stalled: stalledDestinations(now: now)), reservedByIntake: 0) > 0) {
            wake = min(wake, due)
        }
        wake = min(wake, nextRecoveryAt, nextRescanAt, hostLoad.nextStall(from: now) ?? wake)
        if case .stopping(let deadline) = lifecycle { wake = min(wake, deadline) }
        if case .drain(let maxWait?) = mode, startedAt + maxWait > now { wake = min(wake, startedAt + maxWait) }
        return max(0, Int(((wake - now) * 1000).rounded(.up)))
    }
}
