import Glibc

/// The worker: one loop on one thread that claims jobs, checks them at the gate, runs their
/// attempts through libcurl's multi interface and applies each outcome to the spool and the
/// audit log.
///
/// Every pass of the loop: read signals and inotify, take what the intake thread claimed,
/// commit (hand the pass's audit lines to the committer thread, with the renames they
/// describe for the filing thread to make once the lines are on disk), start the attempts
/// whose `accepted` lines are on disk, and sleep in `curl_multi_poll` until a socket, a
/// signal, a new file, a finished commit or the next due time wakes it. The loop never waits
/// for the disk, except for the rare lines that must be durable at once (start, stop,
/// recovery, reloads, deferrals). Its own state lives on its one thread and needs no locks.
public final class Dispatcher {
    /// `run` keeps going until told to stop; `drain` stops when nothing is left to do.
    public enum Mode: Sendable {
        case run(graceSeconds: Double)
        case drain(maxWaitSeconds: Double?)
    }

    private let spool: Spool
    private let mode: Mode
    private let clock: any WallClock
    private let jitter: any JitterSource
    private let progress: ((DispatchSummary, Int) -> Void)?

    private var configuration: Configuration
    /// Counts the configurations loaded (the first is 0): a gate pass made under an earlier one
    /// no longer stands.
    private var configurationGeneration = 0
    private var decoder: JobDecoder
    private var policy: RetryPolicy
    private var builder: RequestBuilder

    private let audit: AuditCommitter<FileMove>
    private let folders: SpoolHandles
    private let area: ClaimArea
    private let stateStore: JobStateStore
    private let engine: TransferEngine
    private let signals: SignalWatcher?
    /// inotify on incoming/, for `run` only.
    private let watcher: IncomingWatcher?
    /// Claims, reads and decodes jobs on its own thread.
    private let intake: IntakeWorker
    /// Files finished jobs on its own thread.
    private let filing: FilingWorker
    /// Makes the moves into deferred/, on this thread.
    private let filer: SpoolFiler
    private let directories = DirectorySyncer()

    private var ready: [ClaimedJob] = []
    private var inFlight: [Int: ClaimedJob] = [:]
    private var hostLoad: [String: Int] = [:]
    private var nextToken = 1
    private var schedule = DeferredSchedule()
    private var moves = MoveBatch()

    private var summary = DispatchSummary()
    private var stopping = false
    private var stopDeadline: Double?
    private var auditFailure: String?
    private let startedAt: Double
    private var nextRecoveryAt: Double = 0
    private var nextRescanAt: Double = 0
    /// The intake's answered-pass count when a drain asked for its last pass.
    private var lastPassMark: Int?
    private var nextProgressAt: Double = 0

    private static let recoveryInterval = 5.0
    private static let rescanInterval = 2.0

    /// Opens the spool, the audit log and a claim area. `signals` must be created by the
    /// caller before any thread starts; pass nil to ignore signals (tests of the library).
    public init(spoolRoot: String, configuration: Configuration, mode: Mode, signals: SignalWatcher?,
                clock: any WallClock = SystemClock(), jitter: any JitterSource = RandomJitter(),
                progress: ((DispatchSummary, Int) -> Void)? = nil) throws {
        spool = Spool(root: spoolRoot)
        self.mode = mode
        self.clock = clock
        self.jitter = jitter
        self.progress = progress
        self.configuration = configuration
        decoder = JobDecoder(clientIdHeader: configuration.settings.clientIdHeader,
                             idempotencyHeader: configuration.settings.idempotencyHeader)
        policy = RetryPolicy(settings: configuration.settings.retry, jitter: jitter)
        builder = RequestBuilder(settings: configuration.settings)
        do {
            try spool.prepare()
        } catch {
            throw StartError.spool(error)
        }
        let log: AuditLog
        do {
            log = try AuditLog(path: configuration.settings.auditLogPath)
        } catch {
            throw StartError.auditLog(error)
        }
        do {
            folders = try SpoolHandles(spool: spool)
            area = try ClaimArea(spool: spool, folders: folders)
        } catch {
            throw StartError.spool(error)
        }
        stateStore = JobStateStore(spool: spool)
        engine = try TransferEngine(maxConnections: configuration.settings.concurrency)
        self.signals = signals
        // Only `run` watches incoming/ with inotify. A drain finds late arrivals all the same:
        // the intake scans the folder again after every pass that claimed something, until a
        // pass finds it empty, and the periodic rescan covers the wait for deferred jobs. An
        // inotify instance costs its process a stall at exit (the kernel waits for an SRCU
        // grace period to free its watch: about 17 ms here, a few per cent of a 10,000-job
        // drain).
        if case .run = mode {
            watcher = try IncomingWatcher(folder: spool.path(.incoming))
        } else {
            watcher = nil
        }
        filer = SpoolFiler(folders: folders, area: area, stateStore: stateStore)
        let filing = FilingWorker(filer: filer, wake: engine.wakeUp)
        self.filing = filing
        audit = AuditCommitter(log: log, onDurable: { filing.file($0) }, wake: engine.wakeUp)
        intake = IntakeWorker(spool: spool, area: area, stateStore: stateStore, decoder: decoder,
                              maxJobBytes: configuration.settings.maxJobBytes, gate: configuration.gate, gateGeneration: configurationGeneration, audit: audit,
                              clock: clock, wake: engine.wakeUp)
        startedAt = clock.now()
    }

    /// Why a dispatcher could not start.
    public enum StartError: Error, CustomStringConvertible {
        /// The spool's folders or this process's claim folder could not be made.
        case spool(Error)
        /// The audit log could not be opened for appending.
        case auditLog(Error)

        public var description: String {
            switch self {
            case .spool(let error): return "cannot prepare the spool: \(error)"
            case .auditLog(let error): return "cannot open the audit log: \(error)"
            }
        }
    }

    private var settings: Settings { configuration.settings }
    /// Jobs held at once: in flight, ready, and claimed by the intake thread but not yet taken.
    /// A job is sent only once its accepted line is on disk, and an fsync now and then takes
    /// several milliseconds: while it runs, the intake goes on claiming and decoding into this
    /// room instead of idling. Measured on a 10,000-job drain (fa89e6a, 20 alternating rounds):
    /// with 8x `concurrency` the median ratio of paired drain times was 1.04 against 4x; 2x
    /// starved the loop.
    private var maxClaimed: Int { settings.concurrency * 8 }

    /// The room the intake thread may fill: the window less what the loop holds, less a
    /// `concurrency` kept back while retries are due, so a backlog in incoming/ never keeps
    /// them out (`claimDueDeferred` claims them beside what the intake holds, never beyond).
    private func intakeCredit() -> Int {
        let keptForRetries = retriesAreDue(at: clock.now()) ? settings.concurrency : 0
        return max(0, maxClaimed - inFlight.count - ready.count - keptForRetries)
    }

    /// Whether a job in deferred/ is due for its next attempt at `now`.
    private func retriesAreDue(at now: Double) -> Bool {
        schedule.nextDue.map { $0 <= now } ?? false
    }

    // MARK: the loop

    /// Runs until the mode's end; returns what happened. Throws only if start-up fails.
    public func run() throws -> DispatchSummary {
        var started = AuditRecord(.started, at: clock.now())
        started.pid = Int(getpid())
        started.version = RequestBuilder.version
        started.message = "environment \(settings.environment.rawValue), \(configuration.registry.count) client records"
        audit.append(started)
        try audit.flush()
        recoverOrphans()
        loadDeferredFolder()
        intake.requestPass()
        intake.setCredit(intakeCredit())
        intake.start()
        nextRecoveryAt = clock.now() + Self.recoveryInterval
        nextRescanAt = clock.now() + Self.rescanInterval

        var readable = Set<Int32>()
        while true {
            if let signals, readable.contains(signals.descriptor) { handleSignals(signals.drain()) }
            if let watcher, readable.contains(watcher.descriptor) {
                let arrivals = watcher.drain()
                if arrivals.overflowed { intake.requestPass() }
                intake.noteArrivals(arrivals.names)
            }
            runPeriodicWork()
            if !stopping && auditFailure == nil {
                admitIntakeResults()
                claimDueDeferred()
                intake.setCredit(intakeCredit())
            }
            commit()
            if auditFailure == nil && !stopping { startAttempts() }
            if shouldEnd() { break }
            reportProgress()
            var descriptors: [Int32] = []
            if let signals { descriptors.append(signals.descriptor) }
            if let watcher { descriptors.append(watcher.descriptor) }
            readable = engine.wait(watching: descriptors, timeoutMs: sleepMilliseconds())
            for finished in engine.takeFinished() { handle(finished) }
        }
        return finishRun()
    }

    /// A drain has no inotify: before it ends, the intake takes one more full pass over
    /// `incoming/`, so a job dropped while the drain ran is delivered by it, not left behind.
    /// Called only when everything else is idle; true once a pass asked for here has ended
    /// (whatever it found has been dealt with by then, or the intake would not be idle).
    private func lastPassFoundNothing() -> Bool {
        if let lastPassMark { return intake.answeredPasses > lastPassMark }
        lastPassMark = intake.answeredPasses
        intake.requestPass()
        return false
    }

    private func shouldEnd() -> Bool {
        if auditFailure != nil { return true }
        let now = clock.now()
        if stopping {
            if engine.inFlight == 0 { return true }
            // Past the grace period, finishRun aborts what is still in flight and puts it back.
            if let stopDeadline, now >= stopDeadline { return true }
            return false
        }
        guard case .drain(let maxWait) = mode else { return false }
        guard engine.inFlight == 0, ready.isEmpty, intake.isIdle, !audit.hasUncommitted, filing.isIdle else { return false }
        if schedule.isEmpty {
            loadDeferredFolder()
            if schedule.isEmpty { return lastPassFoundNothing() }
        }
        if let maxWait, now - startedAt >= maxWait {
            summary.ending = .deferredRemaining
            return true
        }
        // Only deferred jobs are left: sleep until the next is due (the periodic rescan still
        // brings in new arrivals meanwhile).
        return false
    }

    private func sleepMilliseconds() -> Int {
        let now = clock.now()
        var wake = now + 1.0
        if let due = schedule.nextDue { wake = min(wake, due) }
        wake = min(wake, nextRecoveryAt, nextRescanAt)
        if let stopDeadline { wake = min(wake, stopDeadline) }
        if case .drain(let maxWait?) = mode { wake = min(wake, startedAt + maxWait) }
        return max(0, Int(((wake - now) * 1000).rounded(.up)))
    }

    private func runPeriodicWork() {
        let now = clock.now()
        if now >= nextRecoveryAt {
            nextRecoveryAt = now + Self.recoveryInterval
            recoverOrphans()
            loadDeferredFolder()
        }
        if now >= nextRescanAt {
            nextRescanAt = now + Self.rescanInterval
            intake.requestPass()
        }
    }

    // MARK: signals and reload

    private func handleSignals(_ received: [ControlSignal]) {
        for signal in received {
            switch signal {
            case .stop: beginStop()
            case .reload: reload()
            }
        }
    }

    private func beginStop() {
        guard !stopping else { return }
        stopping = true
        let grace: Double
        if case .run(let seconds) = mode { grace = seconds } else { grace = 10 }
        stopDeadline = clock.now() + grace
        intake.setCredit(0)
        for claimed in ready { putBack(claimed.name, to: claimed.origin) }
        ready.removeAll()
    }

    /// SIGHUP: load the config folder again (the old configuration stays if it is bad) and
    /// reopen the audit log, at its new path if `auditLog` changed.
    public func reload() {
        let loader = ConfigLoader(directory: configuration.directory, spoolDirectory: spool.root)
        do {
            let fresh = try loader.load()
            do {
                try audit.reopen(at: fresh.settings.auditLogPath)
            } catch {
                throw ConfigError(file: "\(configuration.directory)/\(ConfigLoader.settingsFileName)",
                                  "field 'auditLog': \(error)")
            }
            configuration = fresh
            configurationGeneration += 1
            decoder = JobDecoder(clientIdHeader: fresh.settings.clientIdHeader, idempotencyHeader: fresh.settings.idempotencyHeader)
            policy = RetryPolicy(settings: fresh.settings.retry, jitter: jitter)
            builder = RequestBuilder(settings: fresh.settings)
            intake.update(decoder: decoder, maxJobBytes: fresh.settings.maxJobBytes, gate: fresh.gate,
                          gateGeneration: configurationGeneration)
            var record = AuditRecord(.configReloaded, at: clock.now())
            record.message = "environment \(fresh.settings.environment.rawValue), \(fresh.registry.count) client records"
            record.count = fresh.registry.count
            audit.append(record)
        } catch {
            try? audit.reopen()
            var record = AuditRecord(.configRejected, at: clock.now())
            record.message = "\(error); the previous configuration stays in force"
            audit.append(record)
        }
    }

    // MARK: claiming

    /// Takes what the intake thread claimed: decoded jobs go to the gate, the rest to corrupt/.
    private func admitIntakeResults() {
        for result in intake.takeResults() {
            switch result {
            case .job(let name, let job, let inode, let state, let pass, let acceptedLine):
                admit(name, job: job, inode: inode, state: state, origin: .incoming, pass: pass, acceptedLine: acceptedLine)
            case .corrupt(let name, let reason, let message):
                setCorrupt(name, jobId: nil, reason, message)
            }
        }
    }

    private func claimDueDeferred() {
        let now = clock.now()
        guard retriesAreDue(at: now) else { return }
        var room = maxClaimed - inFlight.count - ready.count - intake.reservedCount
        while room > 0, let name = schedule.popDue(now: now) {
            do {
                switch try area.claim(name, from: .deferred) {
                case .claimed: room -= 1
                case .gone: continue
                case .nameInUse:
                    // Its namesake from incoming/ is being worked on: try again in a second.
                    schedule.insert(name, due: now + 1)
                    continue
                }
            } catch {
                reportSpoolError(error)
                continue
            }
            switch JobFileReader.read(name, in: area.folder(for: name), decoder: decoder, limit: settings.maxJobBytes) {
            case .job(let job, let inode):
                admit(name, job: job, inode: inode, state: stateStore.load(name, inode: inode), origin: .deferred)
            case .corrupt(let reason, let message, _):
                setCorrupt(name, jobId: nil, reason, message)
            }
        }
    }

    /// Gate-checks a decoded job just claimed into the claim area; an allowed one waits in
    /// `ready` for a transfer slot. A job from `incoming/` normally comes with its `accepted`
    /// line already queued by the intake thread (`acceptedLine`); one whose line is missing
    /// (the intake's gate said no, and a reload since says yes) gets it here, and one whose
    /// intake `pass` was made under the configuration still in force is not checked again.
    private func admit(_ name: String, job: Job, inode: UInt64, state: JobState?, origin: SpoolFolder,
                       pass: GatePass? = nil, acceptedLine: Int = 0) {
        let claimed = ClaimedJob(name: name, job: job, inode: inode, origin: origin,
                                 attempts: state?.attempts ?? 0, firstClaimedAt: state?.firstClaimedAt ?? clock.now(),
                                 hasSavedState: state != nil)
        switch gateDecision(on: job, pass: pass) {
        case .refused(let reason, let message):
            refuse(claimed, reason, message)
        case .allowed(let client):
            claimed.gatePass = GatePass(generation: configurationGeneration, client: client)
            if origin == .incoming {
                claimed.acceptedLine = acceptedLine > 0 ? acceptedLine
                    : audit.append(.accepted(at: clock.now(), file: name, job: job))
            }
            ready.append(claimed)
        }
    }

    /// The gate's decision on `job` under the configuration in force: the job's `pass` when it
    /// was made under this very configuration (the gate is pure), else a fresh check.
    private func gateDecision(on job: Job, pass: GatePass?) -> GateDecision {
        if let pass, pass.generation == configurationGeneration { return .allowed(pass.client) }
        return configuration.gate.check(job)
    }

    // MARK: attempts

    private func startAttempts() {
        guard !ready.isEmpty else { return }
        var waiting: [ClaimedJob] = []
        let now = clock.now()
        let durableLines = audit.durableLines
        for claimed in ready {
            // Nothing is sent before its `accepted` line is on disk.
            if claimed.acceptedLine > durableLines || engine.inFlight >= settings.concurrency || hostLoad[claimed.job.url.hostKey, default: 0] >= settings.perHostConcurrency {
                waiting.append(claimed)
                continue
            }
            // The gate again, against the registry in force now.
            let client: ClientRecord
            switch gateDecision(on: claimed.job, pass: claimed.gatePass) {
            case .refused(let reason, let message):
                refuse(claimed, reason, message)
                continue
            case .allowed(let record):
                client = record
            }
            if now > policy.deadline(for: claimed.job, firstClaimedAt: claimed.firstClaimedAt) {
                fail(claimed, .expired, "the job's deadline (notAfter or retry.maxAgeSeconds) passed before it could be delivered",
                     status: nil, error: nil, record: jobRecord(.failed, claimed))
                continue
            }
            let token = nextToken
            nextToken += 1
            do {
                try engine.start(builder.request(for: claimed.job, client: client), token: token)
            } catch {
                claimed.attempts += 1
                var record = jobRecord(.failed, claimed)
                record.error = "\(error)"
                fail(claimed, .transferSetup, "the transfer could not be set up: \(error)", status: nil, error: "\(error)", record: record)
                continue
            }
            inFlight[token] = claimed
            hostLoad[claimed.job.url.hostKey, default: 0] += 1
        }
        ready = waiting
    }

    private func releaseHost(of claimed: ClaimedJob) {
        let key = claimed.job.url.hostKey
        let load = hostLoad[key, default: 1] - 1
        hostLoad[key] = load > 0 ? load : nil
    }

    private func handle(_ finished: TransferEngine.Finished) {
        guard let claimed = inFlight.removeValue(forKey: finished.token) else { return }
        releaseHost(of: claimed)
        claimed.attempts += 1
        let now = clock.now()
        let outcome = policy.outcome(of: finished.result, attempt: claimed.attempts, job: claimed.job,
                                     firstClaimedAt: claimed.firstClaimedAt, now: now)
        var record = jobRecord(.delivered, claimed)
        record.ms = finished.milliseconds
        record.bytes = claimed.job.body?.count ?? 0
        record.bodySha256 = claimed.job.bodySha256
        var status: Int?
        var errorText: String?
        switch finished.result {
        case .response(let code, _): status = code
        case .transportError(let error): errorText = error.description
        }
        record.status = status
        record.error = errorText ?? finished.ending?.description
        record.sends = finished.sends > 1 ? finished.sends : nil
        switch outcome {
        case .delivered:
            record.event = .delivered
            finish(claimed.name, jobId: claimed.job.id, to: .delivered, record: record, sidecar: nil, clearsState: claimed.hasSavedState)
            summary.delivered += 1
        case .retry(let delayMs):
            record.event = .deferred
            deferJob(claimed, until: now + Double(delayMs) / 1000, record: record)
        case .failed(let reason):
            record.event = .failed
            let what = status.map { "HTTP \($0)" } ?? errorText ?? "no response"
            let message: String
            switch reason {
            case .httpStatus: message = "the server answered \(what), which is not retried"
            case .retriesExhausted: message = "attempt \(claimed.attempts) of \(policy.attemptLimit(for: claimed.job)) ended with \(what)"
            case .expired: message = "attempt \(claimed.attempts) ended with \(what) and the next retry would fall after the job's deadline"
            case .transferSetup: message = what
            }
            fail(claimed, reason, message, status: status, error: errorText, record: record)
        }
    }

    // MARK: outcomes

    private func jobRecord(_ event: AuditEvent, _ claimed: ClaimedJob) -> AuditRecord {
        AuditRecord(event, at: clock.now(), file: claimed.name, job: claimed.job,
                    attempt: event == .accepted || event == .refused ? nil : claimed.attempts)
    }

    private func refuse(_ claimed: ClaimedJob, _ reason: RefusalReason, _ message: String) {
        var record = jobRecord(.refused, claimed)
        record.reason = reason.rawValue
        record.message = message
        let sidecar = ReasonSidecar(reason: reason.rawValue, message: message, at: record.at, job: claimed.job.id,
                                    clientId: record.clientId, attempts: claimed.attempts)
        finish(claimed.name, jobId: claimed.job.id, to: .refused, record: record, sidecar: sidecar, clearsState: claimed.hasSavedState)
        summary.refused += 1
    }

    private func fail(_ claimed: ClaimedJob, _ reason: FailureReason, _ message: String, status: Int?, error: String?, record: AuditRecord) {
        var record = record
        record.event = .failed
        record.reason = reason.rawValue
        record.message = message
        let sidecar = ReasonSidecar(reason: reason.rawValue, message: message, at: record.at, job: claimed.job.id,
                                    clientId: record.clientId, attempts: claimed.attempts, status: status, error: error)
        finish(claimed.name, jobId: claimed.job.id, to: .failed, record: record, sidecar: sidecar, clearsState: claimed.hasSavedState)
        summary.failed += 1
    }

    private func setCorrupt(_ name: String, jobId: String?, _ reason: CorruptReason, _ message: String) {
        var record = AuditRecord(.corrupt, at: clock.now())
        record.job = jobId ?? SpoolMover.originalStem(of: name)
        record.file = name
        record.reason = reason.rawValue
        record.message = message
        let sidecar = ReasonSidecar(reason: reason.rawValue, message: message, at: record.at)
        finish(name, jobId: jobId, to: .corrupt, record: record, sidecar: sidecar)
        summary.corrupt += 1
    }

    /// Queues a final move: sidecar written now, audit line queued, rename after the commit.
    private func finish(_ name: String, jobId: String?, to folder: SpoolFolder, record: AuditRecord, sidecar: ReasonSidecar?,
                        clearsState: Bool = false) {
        let folderPath = spool.path(folder)
        do {
            // A sidecar needs its final name now; otherwise the no-replace rename at commit
            // finds out about a clash by itself, which saves two lookups per job.
            let target = sidecar == nil ? name : try SpoolMover.freeName(for: name, in: folderPath)
            try sidecar?.write(beside: target, in: folderPath)
            audit.append(record)
            moves.add(FileMove(name: name, to: folder, target: target, sidecar: sidecar, clearsState: clearsState))
        } catch {
            reportSpoolError(error)
        }
    }

    private func deferJob(_ claimed: ClaimedJob, until due: Double, record: AuditRecord) {
        var record = record
        record.nextAttemptAt = due
        do {
            let target = try SpoolMover.freeName(for: claimed.name, in: spool.path(.deferred))
            // The state file is keyed by the name the job will have in deferred/.
            try stateStore.save(JobState(attempts: claimed.attempts, firstClaimedAt: claimed.firstClaimedAt,
                                         nextAttemptAt: due, inode: claimed.inode), for: target)
            moves.stateChanged = true
            audit.append(record)
            moves.add(FileMove(name: claimed.name, to: .deferred, target: target, sidecar: nil, clearsState: false))
            schedule.insert(target, due: due)
            summary.deferred += 1
        } catch {
            reportSpoolError(error)
        }
    }

    /// Commits the pass's audit lines; the moves they describe are made only once the lines
    /// are on disk. Usually in the background: the committer thread hands the moves to the
    /// filing thread. A batch with moves into `deferred/` is committed here and now (state
    /// files' folder first, then the lines), and those moves made at once, so the schedule
    /// never names a job that is not there yet.
    private func commit() {
        if let failure = audit.failure {
            auditFailure = failure
            return
        }
        guard !moves.isEmpty || audit.hasUncommitted else { return }
        guard moves.stateChanged || moves.hasDeferred else {
            audit.commit(handing: moves.take())
            return
        }
        do {
            if moves.stateChanged { try directories.sync(stateStore.directory) }
            try audit.flush()
        } catch {
            auditFailure = "\(error)"
            return
        }
        let batch = moves.take()
        filing.file(batch.filter { $0.to != .deferred })
        filer.perform(batch.filter { $0.to == .deferred }, directories: directories)
    }

    /// Returns a claim to its folder (at a stop, or after the audit log failed).
    private func putBack(_ name: String, to folder: SpoolFolder) {
        do {
            let target = try SpoolMover.move(area.path(of: name), named: name, into: spool.path(folder))
            if folder == .deferred { schedule.insert(target, due: clock.now()) }
            summary.requeued += 1
        } catch {
            reportSpoolError(error)
        }
    }

    // MARK: recovery and the deferred folder

    private func recoverOrphans() {
        let recovery = OrphanRecovery(spool: spool, ownArea: area.name)
        do {
            let recovered = try recovery.run { found in
                for job in found {
                    var record = AuditRecord(.recovered, at: clock.now())
                    record.job = SpoolMover.originalStem(of: job.name)
                    record.file = job.name
                    record.message = "claimed by a process that is gone; put back in incoming/"
                    audit.append(record)
                }
                try audit.flush()
            }
            summary.recovered += recovered.count
            if !recovered.isEmpty { intake.requestPass() }
        } catch {
            reportSpoolError(error)
        }
    }

    /// Adds jobs in `deferred/` that the schedule does not know yet (at start, and jobs another
    /// process deferred), due at the time their state file says.
    private func loadDeferredFolder() {
        guard let stream = try? DirectoryStream(spool.path(.deferred)) else { return }
        let now = clock.now()
        while let name = stream.next() {
            guard Spool.isJobName(name), !schedule.contains(name) else { continue }
            let state = stateStore.load(name, inode: FileSystem.inode(of: spool.path(.deferred, name)))
            schedule.insert(name, due: state?.nextAttemptAt ?? now)
        }
    }

    // MARK: the end

    private func finishRun() -> DispatchSummary {
        intake.setCredit(0)
        for token in engine.abortAll() {
            if let claimed = inFlight.removeValue(forKey: token) { putBack(claimed.name, to: claimed.origin) }
        }
        for claimed in ready { putBack(claimed.name, to: claimed.origin) }
        ready.removeAll()
        for (_, claimed) in inFlight { putBack(claimed.name, to: claimed.origin) }
        inFlight.removeAll()
        commit()
        if auditFailure == nil {
            do { try audit.flush() } catch { auditFailure = "\(error)" }
        }
        if let auditFailure {
            summary.ending = .auditFailure(auditFailure)
            // Outcomes that never reached the audit log: the jobs go back as if never tried,
            // and the sidecars written for them go too.
            for move in audit.takeUnhanded() + moves.take() {
                if move.sidecar != nil { unlink(spool.path(move.to, "\(move.target).reason")) }
                putBack(move.name, to: .incoming)
            }
        } else if stopping {
            summary.ending = .stopped
        }
        summary.unclaimable = intake.unclaimableCount
        // What the committer handed on is filed before the end; claims the intake thread made
        // that nobody took go back.
        filing.stop()
        for result in intake.stop() {
            switch result {
            case .job(let name, _, _, _, _, _), .corrupt(let name, _, _): putBack(name, to: .incoming)
            }
        }
        summary.stillDeferred = (try? DirectoryStream.names(in: spool.path(.deferred)).filter(Spool.isJobName).count) ?? 0
        if auditFailure == nil {
            var stopped = AuditRecord(.stopped, at: clock.now())
            stopped.pid = Int(getpid())
            stopped.version = RequestBuilder.version
            stopped.count = summary.requeued
            stopped.message = summary.line
            audit.append(stopped)
            try? audit.flush()
        }
        audit.stop()
        try? FileSystem.syncDirectory(spool.path(.incoming))
        area.dissolve()
        if progress != nil { reportProgress(force: true) }
        return summary
    }

    private func reportProgress(force: Bool = false) {
        guard let progress else { return }
        let now = clock.now()
        guard force || now >= nextProgressAt else { return }
        nextProgressAt = now + 0.5
        progress(summary, engine.inFlight)
    }

    private func reportSpoolError(_ error: Error) {
        let message = "outbound: spool error: \(error)\n"
        FileSystem.writeStandardError(message)
    }
}

/// The moves waiting for the next commit.
struct MoveBatch {
    private var pending: [FileMove] = []
    var stateChanged = false

    var isEmpty: Bool { pending.isEmpty && !stateChanged }

    /// Whether a move into `deferred/` is among them.
    private(set) var hasDeferred = false

    mutating func add(_ move: FileMove) {
        pending.append(move)
        if move.to == .deferred { hasDeferred = true }
    }

    mutating func take() -> [FileMove] {
        defer {
            pending.removeAll(keepingCapacity: true)
            stateChanged = false
            hasDeferred = false
        }
        return pending
    }
}

