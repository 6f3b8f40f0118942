/// The dispatcher's decisions, as a value: what to claim, what to send and when, what each
/// outcome means for the job, when to sleep and when to end.
///
/// Shaped like async-http-client's connection-pool state machine: each event is one
/// `mutating func` named after what happened (`intakeDelivered`, `transferFinished`,
/// `stopRequested`, …) and returns the `DispatchAction`s the I/O shell (`Dispatcher`) carries
/// out. The core does no I/O, reads no clock and starts no thread: time comes in with the
/// events, so every rule (the claim window, per-host limits, the durability order of sends,
/// deferral keeping attempts and age, drain's end, stop and rollback, OAuth clients' tokens)
/// is tested by feeding events and reading actions.
struct DispatchCore {
    /// Where the run is in its life: stopping is one more state, not a flag over the loop.
    enum Lifecycle: Equatable {
        case running
        /// A stop was asked for: nothing new starts; transfers in flight may finish until
        /// the deadline.
        case stopping(deadline: Double)
    }

    static let recoveryInterval = 5.0
    static let rescanInterval = 2.0

    let mode: DispatchMode
    let startedAt: Double
    private(set) var lifecycle = Lifecycle.running
    /// The run's counts (the shell's reports are in DispatchCore+Counts.swift).
    var summary = DispatchSummary()
    private(set) var window: ClaimWindow
    private(set) var hostLoad: HostLoad
    private var gate: Gate
    /// Counts the configurations loaded (the first is 0): a gate pass made under an earlier
    /// one no longer stands.
    private(set) var generation = 0
    private(set) var records: OutcomeRecords
    var policy: RetryPolicy { records.policy }
    /// Per-destination circuits (contract 13): jobs to a destination that is down are set
    /// aside without an attempt.
    private(set) var destinations: DestinationTable
    /// Tokens of transfers sent as a down destination's one probe.
    private var probes: Set<Int> = []
    /// Ordered lanes (contract 14): one job of a lane out at a time, in name order.
    /// Changed only by the core (its lane events are in DispatchCore+Lanes.swift).
    var lanes: LaneTable
    /// Whether this process owns the spool's lanes (the shell holds the lane-owner lock).
    var ownsLanes = true
    /// The earliest file the intake left unread in incoming/ ("" while its listing failed).
    var earliestUnread: String?

    /// Claimed, gate-checked jobs waiting for a transfer slot (or for their accepted line).
    var ready: [ClaimedJob] = []
    /// Attempts running, by the token they were started under.
    private(set) var inFlight: [Int: ClaimedJob] = [:]
    /// The next transfer token, for attempts and token requests alike.
    var nextToken = 1
    /// Access tokens of OAuth clients (contract 12), asked before a job takes a slot.
    var tokens: TokenCache
    /// Jobs waiting for their client's token, by waiter number: parked here, in no slot.
    var awaitingToken: [Int: ClaimedJob] = [:]
    /// Token requests running, by transfer token (DispatchCore+Tokens.swift).
    var tokenFetches: [Int: (client: ClientRecord, fetchId: Int)] = [:]
    var nextWaiter = 1
    private(set) var schedule = DeferredSchedule()
    /// Jobs set aside whose state, line and move the shell is still carrying out, and the names
    /// of those whose line is written, on their way into deferred/ (+Deferrals).
    var deferralsUnderway = 0
    var movingToDeferred: Set<String> = []
    private(set) var nextRecoveryAt: Double
    private(set) var nextRescanAt: Double
    /// The intake's answered-pass count when a drain asked for its last pass.
    private var lastPassMark: Int?

    init(mode: DispatchMode, settings: Settings, gate: Gate, policy: RetryPolicy, now: Double) {
        self.mode = mode
        startedAt = now
        window = ClaimWindow(concurrency: settings.concurrency)
        hostLoad = HostLoad(limit: settings.perHostConcurrency, timeoutMs: settings.timeoutMs)
        self.gate = gate
        records = OutcomeRecords(policy: policy)
        tokens = TokenCache(baseDelay: Double(settings.retry.baseDelayMs) / 1000, maxDelay: Double(settings.retry.maxDelayMs) / 1000)
        destinations = DestinationTable(rules: CircuitRules(settings))
        lanes = LaneTable(policy: settings.laneOnFailure)
        nextRecoveryAt = now + Self.recoveryInterval
        nextRescanAt = now + Self.rescanInterval
    }

    var isRunning: Bool { lifecycle == .running }

    // MARK: events: timers, intake, retries

    /// The start of the run: recover orphans, learn deferred/, ask for a first pass.
    func started() -> [DispatchAction] {
        [.recoverOrphans, .scanDeferredFolder, .requestIntakePass]
    }

    /// Recovery (with a look at deferred/) every 5 s, and a rescan of incoming/ every 2 s.
    mutating func timersFired(now: Double) -> [DispatchAction] {
        var actions: [DispatchAction] = []
        if now >= nextRecoveryAt {
            nextRecoveryAt = now + Self.recoveryInterval
            actions += [.recoverOrphans, .scanDeferredFolder]
        }
        if now >= nextRescanAt {
            nextRescanAt = now + Self.rescanInterval
            actions.append(.requestIntakePass)
        }
        return actions
    }

    /// What the intake thread claimed: decoded jobs go to the gate, the rest to corrupt/.
    mutating func intakeDelivered(_ results: [IntakeResult], now: Double) -> [DispatchAction] {
        var actions: [DispatchAction] = []
        for result in results {
            switch result {
            case .job(let name, let job, let inode, let bytes, let state, let pass, let acceptedLine):
                actions += admit(name, job: job, inode: inode, bytes: bytes, state: state, origin: .incoming, pass: pass,
                                 acceptedLine: acceptedLine, now: now)
            case .corrupt(let name, let reason, let message):
                actions += corruptFound(name, reason, message, now: now)
            }
        }
        return actions
    }

    /// A claimed file that is not a valid job.
    mutating func corruptFound(_ name: String, _ reason: CorruptReason, _ message: String, now: Double) -> [DispatchAction] {
        summary.corrupt += 1
        return [.file(records.corruption(name: name, reason, message, at: now))]
    }

    /// The names of due retries to claim now, within the window beside the intake's
    /// reservation; they leave the schedule (a lost claim is simply gone).
    mutating func retriesToClaim(now: Double, reservedByIntake: Int) -> [String] {
        guard isRunning, retriesAreDue(at: now) else { return [] }
        var room = window.roomForRetries(heldByLoop: heldInWindow(stalled: stalledDestinations(now: now)), reservedByIntake: reservedByIntake)
        var names: [String] = []
        while room > 0, let name = schedule.popDue(now: now) {
            names.append(name)
            room -= 1
        }
        return names
    }

    /// A retry claimed from deferred/ and read: to the gate, keeping its attempts and age.
    mutating func retryClaimed(_ name: String, job: Job, inode: UInt64, bytes: Int = 0, state: JobState?, now: Double) -> [DispatchAction] {
        admit(name, job: job, inode: inode, bytes: bytes, state: state, origin: .deferred, pass: nil, acceptedLine: 0, now: now)
    }

    /// A due retry that could not be claimed now (no room in the byte budget, its name taken
    /// in the claim area by a namesake from incoming/, or its rename out of deferred/ failed
    /// with an error such as EAGAIN or EIO): it stays in deferred/ with no verdict and is
    /// tried again `seconds` later (a second unless said otherwise). Left out of the
    /// schedule, the next scan of deferred/ would find it due at once, and a claim that keeps
    /// failing would be tried on every turn of the loop.
    mutating func retryPutOff(_ name: String, now: Double, for seconds: Double = 1) {
        schedule.insert(name, due: now + seconds)
    }

    /// Jobs found in deferred/ with the time their state says they are due.
    mutating func deferredFound(_ found: [(name: String, due: Double)]) {
        for entry in found { schedule.insert(entry.name, due: entry.due) }
    }

    /// Whether the schedule knows `name` already (the deferred/ scan skips those).
    func isScheduled(_ name: String) -> Bool { schedule.contains(name) || movingToDeferred.contains(name) }

    /// Gate-checks a decoded job; an allowed one waits in `ready` for a transfer slot. A job
    /// from `incoming/` normally comes with its `accepted` line queued by the intake thread;
    /// one without (the intake's gate said no, a reload since says yes) gets it now. A job of
    /// an ordered lane first takes its place in the lane.
    private mutating func admit(_ name: String, job: Job, inode: UInt64, bytes: Int, state: JobState?, origin: SpoolFolder,
                                pass: GatePass?, acceptedLine: Int, now: Double) -> [DispatchAction] {
        var claimed = ClaimedJob(name: name, job: job, inode: inode, bytes: bytes, origin: origin,
                                 attempts: state?.attempts ?? 0, firstClaimedAt: state?.firstClaimedAt ?? now,
                                 hasSavedState: state != nil)
        claimed.gatePass = pass
        claimed.acceptedLine = acceptedLine
        if let lane = claimed.lane { return admitToLane(claimed, lane, now: now) }   // lanes (contract 14)
        return enterReady(claimed, now: now)
    }

    /// Gate-checks a job allowed out and puts it in `ready`, with its `accepted` line.
    mutating func enterReady(_ claimed: ClaimedJob, now: Double) -> [DispatchAction] {
        var claimed = claimed
        switch gateDecision(on: claimed.job, pass: claimed.gatePass) {
        case .refused(let reason, let message):
            summary.refused += 1
            return file(records.refusal(claimed, reason, message, at: now), claimed, now: now)
        case .allowed(let client):
            claimed.gatePass = GatePass(generation: generation, client: client)
            var actions: [DispatchAction] = []
            if claimed.origin == .incoming && claimed.acceptedLine == 0 {
                // Held back until the shell reports the line's number.
                claimed.acceptedLine = .max
                actions.append(.queueAcceptedLine(name: claimed.name, job: claimed.job))
            }
            ready.append(claimed)
            return actions
        }
    }

    /// The number of the `accepted` line queued for `name` by `.queueAcceptedLine`.
    mutating func acceptedLineQueued(_ line: Int, forJobNamed name: String) {
        if let index = ready.lastIndex(where: { $0.name == name }) { ready[index].acceptedLine = line }
    }

    /// The gate's decision under the configuration in force: the job's `pass` when it was
    /// made under this very configuration (the gate is pure), else a fresh check.
    private func gateDecision(on job: Job, pass: GatePass?) -> GateDecision {
        if let pass, pass.generation == generation { return .allowed(pass.client) }
        return gate.check(job)
    }

    // MARK: events: attempts

    /// Starts what may start: a job goes out only once its `accepted` line is durable
    /// (`durableLines`), while a transfer slot and its destination's share are free, after the
    /// gate has said yes again against the registry in force and its deadline has not passed.
    mutating func tick(now: Double, durableLines: Int) -> [DispatchAction] {
        guard isRunning, !ready.isEmpty, inFlight.count < window.concurrency else { return [] }
        var actions: [DispatchAction] = []
        // Jobs that wait are compacted to the front in their order, in place: the ready list
        // holds up to the whole claim window, and copying each job out and back on every pass
        // costs more than the rest of the pass.
        // Once every slot is taken the rest of the list stays as it is, and a destination
        // found at its share is remembered for the pass: jobs behind a hung partner's are
        // passed over without a lookup each, on every pass of the loop.
        var kept = 0
        var index = 0
        var fullDestinations: [String] = []
        func hasRoom(_ claimed: ClaimedJob) -> Bool {
            let key = claimed.hostKey
            if fullDestinations.contains(key) { return false }
            if hostLoad.hasRoom(for: key, tls: claimed.job.url.isTLS) { return true }
            fullDestinations.append(key)
            return false
        }
        while index < ready.count, inFlight.count < window.concurrency {
            defer { index += 1 }
            if ready[index].acceptedLine > durableLines || !hasRoom(ready[index]) {
                if kept != index { ready.swapAt(kept, index) }
                kept += 1
                continue
            }
            let claimed = ready[index]
            switch gateDecision(on: claimed.job, pass: claimed.gatePass) {
            case .refused(let reason, let message):
                summary.refused += 1
                actions += file(records.refusal(claimed, reason, message, at: now), claimed, now: now)
            case .allowed(let client):
                if now > policy.deadline(for: claimed.job, firstClaimedAt: claimed.firstClaimedAt) {
                    summary.failed += 1
                    actions += file(records.expiry(claimed, at: now), claimed, now: now)
                    continue
                }
                var claimed = claimed
                guard authorize(&claimed, client, now: now, actions: &actions) else { continue }
                let verdict = destinations.decide(for: Destination(claimed.job.url), now: now)
                if case .setAside(let until) = verdict {
                    // Its deadline still runs: it comes back by then, to fail `expired`.
                    let deadline = policy.deadline(for: claimed.job, firstClaimedAt: claimed.firstClaimedAt)
                    let deferral = records.setAside(claimed, until: min(until, deadline + 0.001), at: now)
                    actions += setAside(claimed, deferral)
                    continue
                }
                if let lane = claimed.lane { claimed.lateInLane = lanes.sending(claimed.name, in: lane) }
                let token = nextToken
                nextToken += 1
                inFlight[token] = claimed
                hostLoad.add(claimed.hostKey, tls: claimed.job.url.isTLS, at: now)
                if verdict == .probe { probes.insert(token) }
                actions.append(.startTransfer(token: token, claimed: claimed, client: client))
            }
        }
        // [kept, index) held the jobs that left; the ones from `index` on were not looked at.
        ready.removeSubrange(kept..<index)
        return actions
    }

    /// libcurl would not take the transfer started under `token`: the job fails, counted as
    /// an attempt.
    mutating func transferSetupFailed(token: Int, error: String, now: Double) -> [DispatchAction] {
        guard var claimed = takeInFlight(token, now: now) else { return [] }
        if probes.remove(token) != nil { destinations.abandonProbe(for: Destination(claimed.job.url), now: now) }
        claimed.attempts += 1
        summary.failed += 1
        return file(records.setupFailure(claimed, error: error, at: now), claimed, now: now)
    }

    /// An attempt ended: file the job, or defer it with its attempts and age kept.
    /// `sends` counts the requests put on the wire (2 after one silent resend); `ending` says
    /// how an answered response ended when it did not end cleanly.
    mutating func transferFinished(token: Int, result: AttemptResult, milliseconds: Int, sends: Int = 1,
                                   ending: ResponseEnding? = nil, now: Double) -> [DispatchAction] {
        guard var claimed = takeInFlight(token, now: now) else { return [] }
        var actions: [DispatchAction] = []
        if let event = destinations.record(result, for: Destination(claimed.job.url), probe: probes.remove(token) != nil, now: now) {
            actions.append(.destinationChanged(event))
        }
        if retriesAfter401(&claimed, result: result) { return actions }
        claimed.attempts += 1
        switch records.attemptEnded(claimed, result: result, milliseconds: milliseconds, sends: sends, ending: ending, at: now) {
        case .file(let filing):
            if filing.folder == .delivered { summary.delivered += 1 } else { summary.failed += 1 }
            actions += file(filing, claimed, now: now)
        case .defer(let deferral):
            actions += setAside(claimed, deferral, countsAsRetry: true)
        }
        return actions
    }

    /// A job now waits in deferred/ as `target`, due at `due`; a lane's head holds its lane
    /// under that name.
    mutating func deferralFiled(as target: String, due: Double, lane: LaneKey? = nil) {
        schedule.insert(target, due: due)
        if let lane, ownsLanes { _ = lanes.headDeferred(as: target, due: due, in: lane) }
    }

    /// `now`: when it ended (nil at the end of the run, when nothing is timed any more).
    private mutating func takeInFlight(_ token: Int, now: Double?) -> ClaimedJob? {
        guard let claimed = inFlight.removeValue(forKey: token) else { return nil }
        hostLoad.remove(claimed.hostKey, at: now ?? 0)
        return claimed
    }

    // MARK: events: signals and reload

    /// SIGTERM/SIGINT: claim nothing new, start nothing new, put back what waits for a slot;
    /// transfers in flight may finish until the grace period ends.
    mutating func stopRequested(now: Double) -> [DispatchAction] {
        guard isRunning else { return [] }
        lifecycle = .stopping(deadline: now + mode.graceSeconds)
        let actions = (ready + takeAllAwaitingToken() + lanes.takeAllWaiting()).map {
            DispatchAction.putBack(name: $0.name, to: $0.origin, bytes: $0.bytes)
        }
        ready.removeAll()
        return actions
    }

    /// A new configuration is in force: gate passes made under the old one no longer stand.
    /// Token slots of changed OAuth records go (`TokenCache.reloaded`): their waiting jobs
    /// return to `ready`, to be checked again under the new records.
    mutating func reloaded(settings: Settings, gate: Gate, policy: RetryPolicy) {
        generation += 1
        self.gate = gate
        releaseWaiters(tokens.reloaded(gate.registry))
        records = OutcomeRecords(policy: policy)
        window = ClaimWindow(concurrency: settings.concurrency)
        hostLoad.limit = settings.perHostConcurrency
        hostLoad.stallSeconds = HostLoad.stallSeconds(timeoutMs: settings.timeoutMs)
        destinations.update(rules: CircuitRules(settings))
        lanes.policy = settings.laneOnFailure
    }

    // MARK: the end

    /// Whether the loop ends after this pass. `run` ends only after a stop, once nothing is in
    /// flight or the grace period is over; `drain` once nothing is held, ready, in flight,
    /// uncommitted or scheduled and a last full intake pass found incoming/ empty, or when
    /// `--max-wait` passes with only deferred jobs left.
    mutating func endDecision(now: Double, facts: ShellFacts, deferredFolderScanned: Bool = false) -> EndDecision {
        if case .stopping(let deadline) = lifecycle {
            return inFlight.isEmpty || now >= deadline ? .end(.stopped) : .keepGoing
        }
        guard case .drain(let maxWait) = mode else { return .keepGoing }
        guard inFlight.isEmpty, ready.isEmpty, awaitingToken.isEmpty, lanes.waitingCount == 0, deferralsUnderway == 0,
              facts.intakeIdle, facts.auditSettled else { return .keepGoing }
        if schedule.isEmpty {
            if !deferredFolderScanned { return .scanDeferredFolderFirst }
            // A drain has no inotify: before it ends, the intake takes one more full pass over
            // incoming/, so a job dropped while the drain ran is delivered by it.
            guard let lastPassMark else {
                lastPassMark = facts.answeredPasses
                return .requestLastPass
            }
            return facts.answeredPasses > lastPassMark ? .end(.finished) : .keepGoing
        }
        if let maxWait, now - startedAt >= maxWait { return .end(.deferredRemaining) }
        // Only deferred jobs are left: sleep until the next is due.
        return .keepGoing
    }

    /// The run is over: transfers the shell aborted (by token) and every job still ready go
    /// back to where they came from.
    mutating func ending(abortedTokens: [Int]) -> [DispatchAction] {
        var actions: [DispatchAction] = []
        for token in abortedTokens {
            probes.remove(token)
            if let claimed = takeInFlight(token, now: nil) { actions.append(.putBack(name: claimed.name, to: claimed.origin, bytes: claimed.bytes)) }
        }
        for claimed in ready + takeAllAwaitingToken() + lanes.takeAllWaiting() { actions.append(.putBack(name: claimed.name, to: claimed.origin, bytes: claimed.bytes)) }
        ready.removeAll()
        for token in inFlight.keys.sorted() {
            if let claimed = takeInFlight(token, now: nil) { actions.append(.putBack(name: claimed.name, to: claimed.origin, bytes: claimed.bytes)) }
        }
        return actions
    }
}
