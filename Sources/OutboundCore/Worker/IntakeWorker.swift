import Glibc

/// What the intake thread found for one file it claimed.
enum IntakeResult: Sendable {
    /// A decoded job, claimed into the claim area, with any saved retry state, its pass through
    /// the gate and the number of its `accepted` audit line (nil and 0 when the gate said no:
    /// the loop refuses it).
    case job(name: String, job: Job, inode: UInt64, state: JobState?, pass: GatePass?, acceptedLine: Int)
    /// Not a valid job: to be filed in corrupt/ by the loop (which owns the audit log).
    case corrupt(name: String, reason: CorruptReason, message: String)
}

/// The intake thread. It finds job files in `incoming/`, claims them (rename into the claim
/// area), reads and decodes them, checks them at the gate and queues the `accepted` line of
/// each one that passes, and hands the results to the dispatcher's loop, at most as many as
/// the loop has asked for. The accepted lines go to disk while the jobs travel to the loop,
/// which sends each once its line is durable (and checks the gate again before every
/// attempt). Finished jobs are filed by the `FilingWorker`.
///
/// `@unchecked Sendable`: every stored `var` is touched only while holding `condition` (the
/// thread's), except `queue`, `laterFiles`, `unclaimable`, `stateIndex` and
/// `attemptedThisPass`, which only the intake thread itself uses.
final class IntakeWorker: @unchecked Sendable {
    private let spool: Spool
    private let area: ClaimArea
    private let stateStore: JobStateStore
    private let clock: any WallClock
    private let wake: @Sendable () -> Void
    private let audit: AuditCommitter<FileMove>
    private let thread = OnDemandThread(named: "outbound-intake")
    private var condition: ThreadCondition { thread.condition }

    // Guarded by `condition`.
    private var decoder: JobDecoder
    private var gate: Gate
    /// The dispatcher's generation number of the configuration `gate` belongs to.
    private var gateGeneration: Int
    private var maxJobBytes: Int
    private var credit = 0
    private var results: [IntakeResult] = []
    /// The most the batch being claimed and read right now can add to `results`.
    private var batchLimit = 0
    private var arrivals: [String] = []
    private var passRequested = false
    private var busy = false
    private var sawEmptyPass = false
    /// A requested pass (and the passes it led to) is under way.
    private var answeringRequest = false
    /// Requested passes that have ended with a pass that found nothing more to claim.
    private var answeredRequests = 0
    /// How many files in incoming/ could not be claimed, as of the last batch.
    private var unclaimableNow = 0

    // The worker thread's own.
    private let queue: IncomingQueue
    /// Names to look at again at a set time: files that did not decode and may still be being
    /// written (a second after their mtime), namesakes of a job already in the claim area, and
    /// files whose claim failed.
    private var laterFiles: [String: Double] = [:]
    /// Files whose claim failed with an error rather than a lost race (no permission to move
    /// them out of incoming/, say): each is reported once and tried again every few seconds,
    /// and none holds a drain open, since retrying at once would only fail again.
    private var unclaimable: Set<String> = []
    private lazy var stateIndex = stateStore.makeIndex()
    /// Files this pass tried to claim: a pass that found some is followed by another, so that
    /// "incoming/ is empty" is only ever concluded from a pass that found nothing.
    private var attemptedThisPass = 0

    init(spool: Spool, area: ClaimArea, stateStore: JobStateStore, decoder: JobDecoder, maxJobBytes: Int,
         gate: Gate, gateGeneration: Int, audit: AuditCommitter<FileMove>,
         clock: any WallClock, wake: @escaping @Sendable () -> Void) {
        self.spool = spool
        self.area = area
        self.stateStore = stateStore
        self.decoder = decoder
        self.gate = gate
        self.gateGeneration = gateGeneration
        self.audit = audit
        self.maxJobBytes = maxJobBytes
        self.clock = clock
        self.wake = wake
        queue = IncomingQueue(folder: spool.path(.incoming))
    }

    // MARK: called from the loop thread

    func start() {
        condition.lock()
        thread.startIfNeeded { [self] in run() }
        condition.unlock()
    }

    /// Lets intake hold up to `limit` results not yet taken.
    func setCredit(_ limit: Int) {
        condition.lock()
        let grew = limit > credit
        credit = limit
        if grew && credit - results.count >= batchThreshold { condition.signal() }
        condition.unlock()
    }

    /// The jobs the intake holds or may still add: its credit, or more while a batch it
    /// started under a larger credit is being read. The loop claims retries only beside these.
    var reservedCount: Int {
        condition.withLock { max(credit, results.count + batchLimit) }
    }

    /// The room that makes a round of claiming worth waking for: claiming in batches keeps
    /// the hand-offs between the two threads (a futex and a pipe write each) rare.
    private var batchThreshold: Int { max(1, min(16, credit / 4)) }

    /// Names inotify reported.
    func noteArrivals(_ names: [String]) {
        guard !names.isEmpty else { return }
        condition.lock()
        arrivals.append(contentsOf: names)
        condition.signal()
        condition.unlock()
    }

    /// Asks for a fresh pass over `incoming/` (start, rescan timer, inotify overflow, recovery).
    func requestPass() {
        condition.lock()
        passRequested = true
        condition.signal()
        condition.unlock()
    }

    /// A new configuration's decoder, size limit and gate (with its generation number), for
    /// files claimed from now on.
    func update(decoder: JobDecoder, maxJobBytes: Int, gate: Gate, gateGeneration: Int) {
        condition.lock()
        self.decoder = decoder
        self.gate = gate
        self.gateGeneration = gateGeneration
        self.maxJobBytes = maxJobBytes
        condition.unlock()
    }

    /// Everything found since the last call.
    func takeResults() -> [IntakeResult] {
        condition.lock()
        defer { condition.unlock() }
        guard !results.isEmpty else { return [] }
        let taken = results
        results.removeAll(keepingCapacity: true)
        credit = max(0, credit - taken.count)
        return taken
    }

    /// True when the last full pass over `incoming/` claimed nothing, nothing else is pending
    /// and no fresh file waits for its grace: `incoming/` held no job to take.
    var isIdle: Bool {
        condition.withLock { sawEmptyPass && !busy && arrivals.isEmpty && !passRequested && results.isEmpty }
    }

    /// Files in incoming/ whose claim failed with an error and that are still there.
    var unclaimableCount: Int {
        condition.withLock { unclaimableNow }
    }

    /// How many requested passes have been answered: each ended with a full pass over
    /// `incoming/` that found nothing more to claim.
    var answeredPasses: Int {
        condition.withLock { answeredRequests }
    }

    /// Stops claiming, ends the thread and waits for it; returns results
    /// it produced but nobody took.
    func stop() -> [IntakeResult] {
        thread.stop()
        condition.lock()
        let left = results
        results.removeAll()
        condition.unlock()
        return left
    }

    // MARK: the intake thread

    private func run() {
        condition.lock()
        while true {
            if thread.isStopRequested { break }
            let now = clock.now()
            for (name, due) in laterFiles where due <= now {
                laterFiles[name] = nil
                arrivals.append(name)
            }
            if passRequested {
                passRequested = false
                answeringRequest = true
                queue.startPass()
                attemptedThisPass = 0
            }
            if !arrivals.isEmpty {
                queue.noteArrivals(arrivals)
                arrivals.removeAll(keepingCapacity: true)
            }
            if !queue.hasPending {
                if attemptedThisPass > 0 {
                    queue.startPass()
                    attemptedThisPass = 0
                    continue
                }
                let settled = laterFiles.keys.allSatisfy(unclaimable.contains)
                if answeringRequest {
                    answeringRequest = false
                    answeredRequests += 1
                    wake()   // a drain may be waiting for this
                } else if settled && !sawEmptyPass {
                    wake()
                }
                sawEmptyPass = settled
            }
            let room = credit - results.count
            guard room >= batchThreshold, queue.hasPending else {
                let nextLater = laterFiles.values.min() ?? now + 1
                condition.wait(seconds: min(nextLater, now + 1) - now)
                continue
            }
            busy = true
            let batchSize = min(room, 64)
            batchLimit = batchSize
            sawEmptyPass = false
            let decoder = self.decoder
            let gate = self.gate
            let gateGeneration = self.gateGeneration
            let limit = maxJobBytes
            condition.unlock()

            var candidates: [String] = []
            while candidates.count < batchSize, let name = queue.next() {
                if laterFiles[name] != nil { continue }
                candidates.append(name)
            }
            attemptedThisPass += candidates.count
            var found: [IntakeResult] = []
            let claimed = claimAll(candidates)
            if !claimed.isEmpty { stateIndex.refresh() }
            for name in claimed {
                if let result = read(name, decoder: decoder, gate: gate, gateGeneration: gateGeneration, limit: limit) { found.append(result) }
            }
            // The batch's accepted lines start for the disk now.
            if !found.isEmpty { audit.commit(handing: []) }

            condition.lock()
            busy = false
            batchLimit = 0
            unclaimableNow = unclaimable.count
            if !found.isEmpty {
                results.append(contentsOf: found)
                wake()
            }
        }
        thread.markFinished()
        condition.unlock()
    }

    /// Claims a batch by renames, taking turns with the filing thread; returns the names won.
    /// A name already in use in the claim area is left in incoming/ for a later pass.
    private func claimAll(_ names: [String]) -> [String] {
        guard !names.isEmpty else { return [] }
        var won: [String] = []
        var inUse: [String] = []
        var failed: [String] = []
        area.folders.renameLock.lock()
        for name in names {
            do {
                switch try area.claim(name, from: .incoming) {
                case .claimed: won.append(name)
                case .gone: break
                case .nameInUse: inUse.append(name)
                }
                unclaimable.remove(name)
            } catch {
                if !unclaimable.contains(name) {
                    FileSystem.writeStandardError("outbound: spool error: \(error); the job stays in incoming/\n")
                }
                failed.append(name)
            }
        }
        area.folders.renameLock.unlock()
        let now = clock.now()
        for name in inUse { laterFiles[name] = now + Self.nameInUseRetrySeconds }
        for name in failed {
            unclaimable.insert(name)
            laterFiles[name] = now + Self.failedClaimRetrySeconds
        }
        return won
    }

    /// How long a job waits in incoming/ while a namesake is claimed.
    static let nameInUseRetrySeconds = 0.25
    /// How long a file whose claim failed waits before it is tried again.
    static let failedClaimRetrySeconds = 5.0

    /// Reads and decodes one claimed file; nil when it was put back to age.
    private func read(_ name: String, decoder: JobDecoder, gate: Gate, gateGeneration: Int, limit: Int) -> IntakeResult? {
        switch JobFileReader.read(name, in: area.folder(for: name), decoder: decoder, limit: limit) {
        case .job(let job, let inode):
            let state = stateIndex.mayHaveState(name) ? stateStore.load(name, inode: inode) : nil
            var pass: GatePass?
            var acceptedLine = 0
            if case .allowed(let client) = gate.check(job) {
                pass = GatePass(generation: gateGeneration, client: client)
                acceptedLine = audit.append(.accepted(at: clock.now(), file: name, job: job))
            }
            return .job(name: name, job: job, inode: inode, state: state, pass: pass, acceptedLine: acceptedLine)
        case .corrupt(let reason, let message, let modified):
            if let modified, clock.now() - modified < 1.0 { return putBackYoung(name, modified: modified) }
            return .corrupt(name: name, reason: reason, message: message)
        }
    }

    /// A file that does not decode yet but was written less than a second ago may still be
    /// being written: it goes back to `incoming/` and is looked at again when a second old.
    private func putBackYoung(_ name: String, modified: Double) -> IntakeResult? {
        do {
            let target = try SpoolMover.move(area.path(of: name), named: name, into: spool.path(.incoming))
            laterFiles[target] = modified + 1.0
        } catch {
            FileSystem.writeStandardError("outbound: spool error: \(error)\n")
        }
        return nil
    }
}
