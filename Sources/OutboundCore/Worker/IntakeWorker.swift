import Glibc

/// The intake thread. It finds job files in `incoming/`, claims them (rename into the claim
/// area), reads and decodes them, checks them at the gate and queues the `accepted` line of
/// each one that passes, and hands the results to the dispatcher's loop, at most as many as
/// the loop has asked for. The accepted lines go to disk while the jobs travel to the loop,
/// which sends each once its line is durable (and checks the gate again before every
/// attempt). Finished jobs are filed by the `FilingWorker`.
///
/// What the loop and the intake thread share is one `Shared` value owned by `shared`, a
/// `ThreadCondition`: reachable only with its lock held. The rest (`queue`, `laterFiles`,
/// `unclaimable`, `leftForStalled`, `stateIndex`) is the intake thread's own.
final class IntakeWorker: @unchecked Sendable {
    /// `@unchecked Sendable` above: the shared part is in `shared`; the stored `var`s below it
    /// are used by the intake thread only.
    let spool: Spool
    let area: ClaimArea
    let stateStore: JobStateStore
    let clock: any WallClock
    private let wake: @Sendable () -> Void
    let audit: AuditCommitter<FileMove>
    private let shared: ThreadCondition<Shared>
    private let thread: OnDemandThread

    // The intake thread's own.
    let queue: IncomingQueue
    /// Names to look at again at a set time: files that did not decode and may still be being
    /// written (a second after their mtime), namesakes of a job already in the claim area, and
    /// files whose claim failed.
    var laterFiles: [String: Double] = [:]
    /// Files whose claim failed with an error rather than a lost race (no permission to move
    /// them out of incoming/, say), or that could not be read `unreadableLimit` times in a
    /// row: each is tried again every few seconds, and none holds a drain open, since
    /// retrying at once would only fail again. Lane jobs waiting behind such a file
    /// (`waitBehindUnread`) count with it.
    var unclaimable: Set<String> = []
    /// Claimed files that could not be read (or their state), by name: failures in a row.
    var readFailures: [String: Int] = [:]
    /// Claims kept because their move back to incoming/ failed (`keepClaimed`): failures in a row.
    var failedMovesBack: [String: Int] = [:]
    /// Files left in incoming/ unread, and lane jobs sent back there to wait before their
    /// `accepted` line: lane jobs named after them wait (`unreadFileBefore`).
    var unreadNames = NameSet()
    lazy var stateIndex = stateStore.makeIndex()
    /// Listings of incoming/ cut short by an error, one after the other.
    var listingFailuresInARow = 0
    /// Past this many, a failing listing settles its pass as a failed one (a drain ends, 74).
    static let listingRetries = 3
    /// Claimed files the byte budget had no room for yet (and claims whose move back failed:
    /// `keepClaimed`), in claim order: read before anything new is claimed.
    var waitingForBytes: [String] = []
    /// Lane jobs left in incoming/ for the lane owner (their `laterFiles` entries), and
    /// whether this thread has claimed as the owner yet: see `IntakeWorker+Lanes`.
    var laneYields: Set<String> = []
    var claimsAsLaneOwner = false
    /// Jobs left in incoming/ because their destination was stalled, with its key: claimed
    /// again once it moves (see `IntakeWorker+Stalled`).
    var leftForStalled: [String: String] = [:]
    /// The queue may hold names gathered while this process did not own the lanes (set on
    /// every turn of the loop before it does): see `startClaimingAsLaneOwner`.
    var gatheredBeforeLaneOwnership = false
    /// `Shared.releases` when `waitingForBytes` was last tried.
    private var releasesSeen = 0
    /// Set while `waitingForBytes` holds a claim whose move back failed: then it is tried
    /// again at this time, with or without a release (`keepClaimed`).
    var moveRetryAt: Double?

    init(spool: Spool, area: ClaimArea, stateStore: JobStateStore, decoder: JobDecoder, maxJobBytes: Int, maxClaimedBytes: Int,
         gate: Gate, gateGeneration: Int, audit: AuditCommitter<FileMove>,
         clock: any WallClock, wake: @escaping @Sendable () -> Void) {
        self.spool = spool
        self.area = area
        self.stateStore = stateStore
        self.audit = audit
        self.clock = clock
        self.wake = wake
        shared = ThreadCondition(Shared(decoder: decoder, gate: gate, gateGeneration: gateGeneration, maxJobBytes: maxJobBytes,
                                        budget: ByteBudget(limit: maxClaimedBytes)))
        thread = OnDemandThread(named: "outbound-intake", signal: shared)
        queue = IncomingQueue(folder: spool.path(.incoming))
    }

    // MARK: called from the loop thread

    func start() {
        shared.withLock { _ in thread.startIfNeeded { [self] in run() } }
    }

    /// Lets intake hold up to `limit` results not yet taken, and tells it which destinations
    /// are stalled (`DispatchCore.stalledDestinations`): their new jobs stay in incoming/.
    func setCredit(_ limit: Int, stalled: Set<String> = []) {
        shared.withLock { state in
            let grew = limit > state.credit
            state.credit = limit
            var wake = grew && state.credit - state.results.count >= state.batchThreshold
            if stalled != state.stalled {
                // One that moved again may have jobs waiting in incoming/.
                let movedAgain = state.stalled.subtracting(stalled)
                if !movedAgain.isEmpty {
                    state.movedAgain.formUnion(movedAgain)
                    wake = true
                }
                state.stalled = stalled
            }
            if wake { shared.signal() }
        }
    }

    /// The jobs the intake holds or may still add: its credit, or more while a batch it
    /// started under a larger credit is being read. The loop claims retries only beside these.
    var reservedCount: Int {
        shared.withLock { max($0.credit, $0.results.count + $0.batchLimit) }
    }

    /// Names inotify reported.
    func noteArrivals(_ names: [String]) {
        guard !names.isEmpty else { return }
        shared.withLock { $0.arrivals.append(contentsOf: names) }
        shared.signal()
    }

    /// This process became the lane owner: jobs with an `orderingKey` are claimed from now on.
    func setOwnsLanes(_ owns: Bool) {
        shared.withLock { $0.ownsLanes = owns }
    }

    /// Leave `name` in incoming/ alone until `time` (a job parked behind its lane's retry).
    func lookLater(at name: String, after time: Double) {
        shared.withLock { $0.later.append((name, time)) }
    }

    /// How long a lane job is left in incoming/ for the lane owner before another look.
    static let laneYieldSeconds = 1.0

    /// Asks for a fresh pass over `incoming/` (start, rescan timer, inotify overflow, recovery).
    func requestPass() {
        shared.withLock { $0.passRequested = true }
        shared.signal()
    }

    /// A new configuration's decoder, size limit and gate (with its generation number), for
    /// files claimed from now on.
    func update(decoder: JobDecoder, maxJobBytes: Int, gate: Gate, gateGeneration: Int) {
        shared.withLock { state in
            state.decoder = decoder
            state.gate = gate
            state.gateGeneration = gateGeneration
            state.maxJobBytes = maxJobBytes
        }
    }

    /// Reserves `bytes` for a job the loop is about to read (a retry); false when the budget
    /// has no room now.
    func reserveBytes(_ bytes: Int) -> Bool {
        shared.withLock { $0.budget.reserve(bytes) == .granted }
    }

    /// Jobs' bytes left memory (filed, deferred or put back): `bytes` in all, of `jobs` jobs.
    func releaseBytes(_ bytes: Int, jobs: Int = 1) {
        let wake = shared.withLock { state in
            state.budget.release(bytes, jobs: jobs)
            state.releases += 1
            return state.waitingForRoom
        }
        if wake { shared.signal() }
    }

    /// Bytes held now, for tests and progress.
    var heldBytes: Int { shared.withLock { $0.budget.held } }

    /// Everything found since the last call.
    func takeResults() -> [IntakeResult] {
        shared.withLock { state in
            guard !state.results.isEmpty else { return [] }
            let taken = state.results
            state.results.removeAll(keepingCapacity: true)
            state.credit = max(0, state.credit - taken.count)
            return taken
        }
    }

    /// True when the last full pass over `incoming/` claimed nothing, nothing else is pending,
    /// no fresh file waits for its grace and none is left for a stalled destination:
    /// `incoming/` held no job to take.
    var isIdle: Bool {
        shared.withLock { $0.passes.sawEmptyPass && !$0.busy && $0.arrivals.isEmpty && !$0.passRequested && $0.results.isEmpty }
    }

    /// Files in incoming/ whose claim failed with an error and that are still there, plus
    /// one when the last listing of incoming/ failed (it may have hidden more).
    var unclaimableCount: Int {
        shared.withLock { $0.unclaimableNow + ($0.listingFailed ? 1 : 0) }
    }

    /// Tells the loop (on the intake thread) that a claim cannot be moved back (`keepClaimed`).
    func reportStuckClaim(_ name: String, _ error: Error) {
        shared.withLock { $0.stuckClaim = (name, error) }
        wake()
    }

    /// The earliest file left unread in incoming/ ("" while the last listing failed), as of
    /// the intake's last batch.
    var earliestUnread: String? { shared.withLock { $0.earliestUnread } }

    /// A claim the intake could not move back to incoming/, try after try: the process is to
    /// stop (exit 74). Reported once.
    func takeStuckClaim() -> (name: String, error: Error)? {
        shared.withLock { state in
            defer { state.stuckClaim = nil }
            return state.stuckClaim
        }
    }

    /// How many requested passes have been answered: each ended with a full pass over
    /// `incoming/` that found nothing more to claim.
    var answeredPasses: Int {
        shared.withLock { $0.passes.answeredRequests }
    }

    /// Stops claiming, ends the thread and waits for it; returns the names of the claims it
    /// holds that nobody took (results, files that waited for room in the budget, and claims
    /// whose move back failed).
    func stop() -> [String] {
        thread.stop()
        let left = shared.withLock { state in
            let left = state.results
            state.results.removeAll()
            return left
        }
        return left.map { result in
            switch result {
            case .job(let name, _, _, _, _, _, _), .corrupt(let name, _, _): return name
            }
        } + waitingForBytes
    }

    // MARK: the intake thread

    private func run() {
        shared.withLockHeld { held in
            while !thread.isStopRequested {
                let now = clock.now()
                if !held.state.ownsLanes { gatheredBeforeLaneOwnership = true }
                for (name, due) in held.state.later { laterFiles[name] = due }
                held.state.later.removeAll()
                if !held.state.movedAgain.isEmpty {
                    held.state.arrivals += takeJobsLeftFor(held.state.movedAgain)
                    held.state.movedAgain.removeAll()
                }
                for (name, due) in laterFiles where due <= now {
                    laterFiles[name] = nil
                    laneYields.remove(name)
                    held.state.arrivals.append(name)
                }
                if held.state.passRequested {
                    held.state.passRequested = false
                    held.state.passes.requestedPassStarts()
                    queue.startPass()
                }
                if !held.state.arrivals.isEmpty {
                    queue.noteArrivals(held.state.arrivals)
                    held.state.arrivals.removeAll(keepingCapacity: true)
                }
                let listingOutcome = queue.hasPending ? nil : queue.takeListingOutcome()
                if case .failure(let failure)? = listingOutcome {
                    // A listing cut short saw only part of incoming/: never "empty". Listed
                    // again at once, a few times; a failure that persists settles the pass
                    // as a failed one, so a drain ends (exit 74) instead of spinning.
                    listingFailuresInARow += 1
                    audit.append(.spoolError(at: clock.now(), file: nil, error: failure,
                                             whereTo: "incoming/ could not be listed; listing it again"))
                    held.state.listingFailed = true
                    if listingFailuresInARow <= Self.listingRetries {
                        queue.startPass()
                        continue
                    }
                } else if case .success? = listingOutcome {
                    listingFailuresInARow = 0
                    held.state.listingFailed = false
                }
                if !queue.hasPending {
                    // Claims kept after a failed move back are not settled either: a drain
                    // that ended now would leave them in incoming/ at its stop.
                    let settled = leftForStalled.isEmpty && waitingForBytes.isEmpty && laterFiles.keys.allSatisfy(unclaimable.contains)
                    switch held.state.passes.listingEnded(settled: settled) {
                    case .startAnotherPass:
                        queue.startPass()
                        continue
                    case .rest(let wakeLoop):
                        if wakeLoop { wake() }   // a drain may be waiting for this
                    }
                }
                let room = held.state.credit - held.state.results.count
                if !waitingForBytes.isEmpty {
                    // Claimed files wait for room in the byte budget, or for a failed move to
                    // be tried again; nothing new is claimed meanwhile.
                    let turn = WaitingClaimsTurn(room: room, moveRetryAt: moveRetryAt, released: held.state.releases != releasesSeen, now: now)
                    if case .wait(let seconds) = turn {
                        held.wait(seconds: seconds)
                        continue
                    }
                    releasesSeen = held.state.releases
                    moveRetryAt = nil
                    held.state.waitingForRoom = false
                    held.state.busy = true
                    let (decoder, gate, generation, limit) = (held.state.decoder, held.state.gate, held.state.gateGeneration, held.state.maxJobBytes)
                    let found = held.unlocked { readWaiting(upTo: room, decoder: decoder, gate: gate, gateGeneration: generation, limit: limit) }
                    held.state.busy = false
                    held.state.waitingForRoom = !waitingForBytes.isEmpty
                    held.state.earliestUnread = earliestUnreadName
                    if !found.isEmpty {
                        held.state.results.append(contentsOf: found)
                        wake()
                    }
                    continue
                }
                guard room >= held.state.batchThreshold, queue.hasPending else {
                    let nextLater = laterFiles.values.min() ?? now + 1
                    held.wait(seconds: min(nextLater, now + 1) - now)
                    continue
                }
                let batchSize = min(room, 64)
                held.state.busy = true
                held.state.batchLimit = batchSize
                held.state.passes.claiming(0)
                let (decoder, gate, generation, limit) = (held.state.decoder, held.state.gate, held.state.gateGeneration, held.state.maxJobBytes)
                let (ownsLanes, stalled) = (held.state.ownsLanes, held.state.stalled)
                let (attempted, found) = held.unlocked {
                    claimAndRead(batchSize, decoder: decoder, gate: gate, gateGeneration: generation, limit: limit, ownsLanes: ownsLanes,
                                 stalled: stalled)
                }
                held.state.passes.claiming(attempted)
                held.state.waitingForRoom = !waitingForBytes.isEmpty
                held.state.earliestUnread = earliestUnreadName
                held.state.busy = false
                held.state.batchLimit = 0
                held.state.unclaimableNow = unclaimable.count
                if !found.isEmpty {
                    held.state.results.append(contentsOf: found)
                    wake()
                }
            }
            thread.markFinished()
        }
    }

    /// One batch, without the lock: up to `batchSize` names from the queue claimed, read and
    /// decoded. Returns how many names it tried and what it found.
    private func claimAndRead(_ batchSize: Int, decoder: JobDecoder, gate: Gate, gateGeneration: Int,
                              limit: Int, ownsLanes: Bool, stalled: Set<String>) -> (attempted: Int, found: [IntakeResult]) {
        if ownsLanes, !claimsAsLaneOwner { startClaimingAsLaneOwner() }
        var candidates: [String] = []
        while candidates.count < batchSize, let name = queue.next() {
            if laterFiles[name] != nil || leftForStalled[name] != nil { continue }
            candidates.append(name)
        }
        var found: [IntakeResult] = []
        // Not the lane owner: lane jobs stay in incoming/ (contract 14; see LaneScreen).
        let screen = ownsLanes ? nil : LaneScreen(folder: area.folders[.incoming], decoder: decoder, limit: limit,
                                                  reserve: reserveBytes, release: { self.releaseBytes($0) })
        let now = clock.now()
        screen?.screen(&candidates, now: now) { name, later in
            switch later {
            case .lane:
                // Read after all: not unclaimable here any longer, the owner takes it.
                readFailures[name] = nil
                unclaimable.remove(name)
                yieldToLaneOwner(name, now: now)
            case .noRoom: laterFiles[name] = now + Self.nameInUseRetrySeconds
            case .unreadable(let error): leaveUnread(name, error: error, whereTo: "left in incoming/ to be read again")
            case .young(let modified):
                unclaimable.remove(name)
                leaveYoung(name, modified: modified)
            }
        }
        let claimed = claimAll(candidates)
        if !claimed.isEmpty { stateIndex.refresh() }
        for name in claimed {
            let early = screen?.take(name, claimedAt: area.path(of: name))
            if let result = read(name, decoder: decoder, gate: gate, gateGeneration: gateGeneration, limit: limit, early: early,
                                 stalled: stalled) {
                found.append(result)
            }
        }
        screen?.releaseUntaken()
        // The batch's accepted lines start for the disk now.
        if !found.isEmpty { audit.commit(handing: []) }
        return (candidates.count, found)
    }
}
