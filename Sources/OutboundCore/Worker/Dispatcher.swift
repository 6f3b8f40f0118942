import Glibc

/// The I/O shell around the dispatch core: it feeds `DispatchCore` events (what the intake
/// claimed, transfers that finished, signals, the time and how far the audit log is on disk)
/// and carries out the actions it returns, with libcurl, the spool and the audit log.
///
/// Threads (see the README's "Project layout"): this loop drives libcurl's multi handle;
/// the intake thread claims and decodes jobs; the audit committer makes lines durable; the
/// filing thread renames finished jobs once their lines are on disk, and saves the state of
/// jobs set aside. Every pass of the loop: read signals and inotify, take what the intake
/// claimed and how far deferrals got, commit, start what may start, and sleep in
/// `curl_multi_poll` until a socket, a signal, a new file, a finished commit or the next due
/// time wakes it. The loop never waits for the disk, except for the rare lines that must be
/// durable at once (start, stop, recovery, reloads).
public final class Dispatcher {
    public typealias Mode = DispatchMode

    let spool: Spool
    let clock: any WallClock
    let jitter: any JitterSource
    let progress: ((DispatchSummary, Int) -> Void)?
    private let metrics: MetricsRegistry?
    var configuration: Configuration
    var decoder: JobDecoder
    var builder: RequestBuilder
    var core: DispatchCore

    let audit: AuditCommitter<FileMove>
    let area: ClaimArea
    let stateStore: JobStateStore
    let engine: TransferEngine
    private let signals: SignalWatcher?
    /// inotify on incoming/, for `run` only.
    private let watcher: IncomingWatcher?
    let intake: IntakeWorker
    let filingWorker: FilingWorker
    var moves = MoveBatch()
    /// Whether this process works the ordered lanes, and their blocked markers (contract 14).
    let laneOwnership: LaneOwnership
    let laneMarkers: LaneMarkers
    /// Taking the free lanes failed at the last try (see `laneTakeoverFailed`).
    var laneTakeoverFailing = false
    /// This process's destinations that are down, as `status` reads them.
    let downDestinations: DownDestinationsFile
    var auditFailure: String?
    /// Why the spool made this process stop (a job's outcome could not be filed), if it did.
    var spoolFailure: String?
    /// Claims that could not be moved back out of the claim folder yet.
    var strandedClaims: [(name: String, folder: SpoolFolder, preferred: String?)] = []
    /// Due retries that could not be read (or their state), by name: failures in a row.
    var retryReadFailures: [String: Int] = [:]
    /// Retries a drain gave up reading (left in deferred/, counted as unclaimable).
    var unreadableRetries: Set<String> = []
    /// Why `concurrency` was lowered at start (the open-file limit), for the `started` line.
    private var descriptorNote: String?
    /// The open-file soft limit in force (raised to the hard one at start): a reload's
    /// `concurrency` is fitted to it too.
    let descriptorLimit: Int
    /// How the loop ended, once it has.
    var ending: DispatchSummary.Ending?
    private var nextProgressAt: Double = 0

    /// Opens the spool, the audit log and a claim area. `signals` must be created by the
    /// caller before any thread starts; pass nil to ignore signals (tests of the library).
    public init(spoolRoot: String, configuration: Configuration, mode: Mode, signals: SignalWatcher?,
                clock: any WallClock = SystemClock(), jitter: any JitterSource = RandomJitter(),
                progress: ((DispatchSummary, Int) -> Void)? = nil, metrics: MetricsRegistry? = nil) throws {
        MemoryTuning.returnLargeBlocksToTheSystem()
        var configuration = configuration
        descriptorLimit = DescriptorLimit.raiseSoftToHard()
        descriptorNote = Self.fitConcurrency(&configuration.settings, softLimit: descriptorLimit)
        if let descriptorNote { FileSystem.writeStandardError("outbound: \(descriptorNote)\n") }
        spool = Spool(root: spoolRoot)
        self.clock = clock
        self.jitter = jitter
        self.progress = progress
        self.metrics = metrics
        self.configuration = configuration
        let settings = configuration.settings
        decoder = JobDecoder(clientIdHeader: settings.clientIdHeader, idempotencyHeader: settings.idempotencyHeader)
        builder = RequestBuilder(settings: settings)
        core = DispatchCore(mode: mode, settings: settings, gate: configuration.gate,
                            policy: RetryPolicy(settings: settings.retry, jitter: jitter), now: clock.now())
        do { try spool.prepare() } catch { throw StartError.spool(error) }
        let log: AuditLog
        do { log = try AuditLog(path: settings.auditLogPath) } catch { throw StartError.auditLog(error) }
        let folders: SpoolHandles
        do {
            folders = try SpoolHandles(spool: spool)
            area = try ClaimArea(spool: spool, folders: folders)
        } catch {
            throw StartError.spool(error)
        }
        stateStore = JobStateStore(spool: spool)
        downDestinations = DownDestinationsFile(spool: spool, process: area.name)
        laneOwnership = LaneOwnership(spool: spool)
        laneMarkers = LaneMarkers(spool: spool)
        core.laneOwnershipChanged(owns: false)
        engine = try TransferEngine(maxConnections: settings.concurrency)
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
        let filing = FilingWorker(filer: SpoolFiler(folders: folders, area: area, stateStore: stateStore), wake: engine.wakeUp)
        filingWorker = filing
        audit = AuditCommitter(log: log, onDurable: { filing.file($0) }, wake: engine.wakeUp, observe: metrics.map { $0.observe })
        intake = IntakeWorker(spool: spool, area: area, stateStore: stateStore, decoder: decoder,
                              maxJobBytes: settings.maxJobBytes, maxClaimedBytes: settings.maxClaimedBytes, gate: configuration.gate, gateGeneration: 0, audit: audit,
                              clock: clock, wake: engine.wakeUp)
    }

    var settings: Settings { configuration.settings }

    /// Lowers `settings.concurrency` to what an open-file limit of `softLimit` covers beside
    /// the process's own descriptors; returns the note saying so, or nil when it fits.
    static func fitConcurrency(_ settings: inout Settings, softLimit: Int) -> String? {
        let wanted = settings.concurrency
        let allowed = DescriptorLimit.concurrency(wanted: wanted, softLimit: softLimit)
        guard allowed < wanted else { return nil }
        settings.concurrency = allowed
        return "concurrency lowered from \(wanted) to \(allowed): the open-file limit is \(softLimit) "
            + "(raise LimitNOFILE / ulimit -n to at least \(wanted + DescriptorLimit.ownUse))"
    }

    // MARK: the loop

    /// Runs until the mode's end; returns what happened. Throws only if start-up fails.
    public func run() throws -> DispatchSummary {
        var started = AuditRecord(.started, at: clock.now())
        started.pid = Int(getpid())
        started.version = RequestBuilder.version
        started.message = "environment \(settings.environment.rawValue), \(configuration.registry.count) client records"
            + (descriptorNote.map { "; \($0)" } ?? "")
        audit.append(started)
        try audit.flush()
        perform(core.started())
        intake.setCredit(core.intakeCredit(now: clock.now()))
        intake.start()
        // What a process killed between two steps of a write left behind; while libcurl loads.
        StaleTemporaryFiles(spool: spool).remove(now: clock.now())
        FiledJobStates(spool: spool, stateStore: stateStore).remove()
        // libcurl has been loading since the command began (`TransferEngine.startLoadingLibcurl`)
        // and the intake is now listing incoming/ beside it; the first transfer needs it.
        do {
            try engine.open()
        } catch {
            ending = .transferEngineUnavailable("\(error)")
            return finishRun()
        }

        var readable: [Int32] = []
        var descriptors: [Int32] = []
        if let signals { descriptors.append(signals.descriptor) }
        if let watcher { descriptors.append(watcher.descriptor) }
        while true {
            if let signals, readable.contains(signals.descriptor) { handleSignals(signals.drain()) }
            if let watcher, readable.contains(watcher.descriptor) {
                let arrivals = watcher.drain()
                if arrivals.overflowed { intake.requestPass() }
                intake.noteArrivals(arrivals.names)
            }
            // Before the timers: a deferred/ scan then finds the jobs just filed scheduled.
            recordDeferralProgress()
            perform(core.timersFired(now: clock.now()))
            if core.lifecycle == .running && auditFailure == nil {
                perform(core.intakeDelivered(intake.takeResults(), now: clock.now()))
                if let stuck = intake.takeStuckClaim() { stopForStuckClaim(stuck.name, stuck.error) }
                claimDueRetries()
                let room = core.intakeRoom(now: clock.now())
                intake.setCredit(room.credit, stalled: room.stalled)
            }
            commit()
            checkOutcomeFolderSyncs()
            if auditFailure == nil { perform(core.tick(now: clock.now(), durableLines: audit.durableLines)) }
            metrics?.setTransfersInFlight(engine.inFlight)
            if shouldEnd() { break }
            reportProgress()
            do {
                readable = try engine.wait(watching: descriptors, timeoutMs: core.sleepMilliseconds(now: clock.now()))
            } catch {
                ending = .transferEngineFailure("\(error)")
                break
            }
            core.earliestUnread = intake.earliestUnread
            for finished in engine.takeFinished() {
                if core.isTokenRequest(finished.token) {
                    tokenRequestFinished(finished)
                    continue
                }
                perform(core.transferFinished(token: finished.token, result: finished.result, milliseconds: finished.milliseconds,
                                              sends: finished.sends, ending: finished.ending, now: clock.now()))
            }
        }
        return finishRun()
    }

    private func shouldEnd() -> Bool {
        if auditFailure != nil { return true }
        let facts = DispatchCore.ShellFacts(intakeIdle: intake.isIdle, auditSettled: !audit.hasUncommitted && filingWorker.isIdle,
                                            answeredPasses: intake.answeredPasses)
        var decision = core.endDecision(now: clock.now(), facts: facts)
        if decision == .scanDeferredFolderFirst {
            scanDeferredFolder()
            decision = core.endDecision(now: clock.now(), facts: facts, deferredFolderScanned: true)
        }
        switch decision {
        case .keepGoing, .scanDeferredFolderFirst: return false
        case .requestLastPass:
            intake.requestPass()
            return false
        case .end(let ending):
            self.ending = ending
            return true
        }
    }

    // MARK: carrying out actions

    func perform(_ actions: [DispatchAction]) {
        guard !actions.isEmpty else { return }
        // Bytes of the jobs these actions let go, given back to the budget at once.
        var released = (bytes: 0, jobs: 0)
        defer { if released.jobs > 0 { intake.releaseBytes(released.bytes, jobs: released.jobs) } }
        // The job at fault of a lane whose blocked marker could not be written: it goes back.
        var unmarked: String?
        // Jobs at fault filed under another name than their claim's: claim name → filed name.
        var blockersFiledAs: [String: String] = [:]
        for action in actions {
            if let unmarked, case .file(let filing) = action, filing.name == unmarked {
                // Not filed without its lane's marker (see `blockLane`), nor counted.
                core.outcomeNotRecorded(filing.folder)
                putBack(filing.name, to: filing.origin)
                if filing.bytes > 0 { released = (released.bytes + filing.bytes, released.jobs + 1) }
                continue
            }
            switch action {
            case .laneBlocked(let lane, let byJob, let record):
                let filedAs = nameForJobAtFault(byJob, filedBy: actions)
                if filedAs != byJob { blockersFiledAs[byJob] = filedAs }
                if !blockLane(lane, byJob: byJob, filedAs: filedAs, record: record) { unmarked = byJob }
            case .startTransfer(let token, let claimed, let client):
                do {
                    var request = builder.request(for: claimed.job, client: client)
                    if let bearer = claimed.bearer { request.headerLines.append(bearer.authorizationHeaderLine) }
                    try engine.start(request, token: token)
                } catch {
                    perform(core.transferSetupFailed(token: token, error: "\(error)", now: clock.now()))
                }
            case .queueAcceptedLine(let name, let job):
                core.acceptedLineQueued(audit.append(.accepted(at: clock.now(), file: name, job: job)), forJobNamed: name)
            case .file(let filing):
                file(filing, settledAs: blockersFiledAs[filing.name])
                if filing.bytes > 0 { released = (released.bytes + filing.bytes, released.jobs + 1) }
            case .deferJob(let deferral):
                deferJob(deferral)
                if deferral.bytes > 0 { released = (released.bytes + deferral.bytes, released.jobs + 1) }
            case .putBack(let name, let folder, let bytes):
                putBack(name, to: folder)
                if bytes > 0 { released = (released.bytes + bytes, released.jobs + 1) }
            case .destinationChanged(let event):
                audit.append(event.auditRecord(at: clock.now()))
                downDestinations.write(core.destinations.down)
            case .fetchToken, .writeTokenLine: performTokenAction(action)
            case .requestIntakePass: intake.requestPass()
            case .recoverOrphans: recoverOrphans()
            case .scanDeferredFolder: scanDeferredFolder()
            case .yieldToLaneOwner, .parkBehindRetry, .holdInBlockedLane, .laneUnblocked:
                performLaneAction(action, blockersFiledAs: blockersFiledAs)
            }
        }
    }

    func reportProgress(force: Bool = false) {
        guard let progress else { return }
        let now = clock.now()
        guard force || now >= nextProgressAt else { return }
        nextProgressAt = now + 0.5
        progress(core.summary, engine.inFlight)
    }

    func reportSpoolError(_ error: Error) {
        FileSystem.writeStandardError("outbound: spool error: \(error)\n")
    }
}
