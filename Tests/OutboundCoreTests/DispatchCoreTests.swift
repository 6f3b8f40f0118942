import XCTest
@testable import OutboundCore

/// The dispatch core's rules, fed events and read back as actions: no thread, socket or file.
final class DispatchCoreTests: XCTestCase {
    private var settings = Settings(environment: .nonProduction, auditLogPath: "/nonexistent/audit.jsonl")

    private func makeCore(_ mode: DispatchMode = .drain(maxWaitSeconds: nil), now: Double = 1000,
                          configure: (inout Settings) -> Void = { _ in }) throws -> DispatchCore {
        configure(&settings)
        let registry = ClientRegistry([try Fixture.record(endpoints: ["http://acme.example/", "http://other.example/"])])
        return DispatchCore(mode: mode, settings: settings, gate: Gate(registry: registry, environment: .nonProduction),
                            policy: RetryPolicy(settings: settings.retry, jitter: FixedJitter(value: 1)), now: now)
    }

    /// An intake result for a job that passed the intake's gate, with its accepted line `line`.
    private func intakeJob(_ name: String, url: String = "http://acme.example/a", line: Int, state: JobState? = nil,
                           core: DispatchCore, clientId: String = Fixture.clientId) throws -> IntakeResult {
        let job = try Fixture.job(url: url, clientId: clientId, id: name)
        let pass = try GatePass(generation: core.generation, client: Fixture.record(endpoints: ["http://acme.example/", "http://other.example/"]))
        return .job(name: "\(name).json", job: job, inode: 7, bytes: 100, state: state, pass: pass, acceptedLine: line)
    }

    private func filings(_ actions: [DispatchAction]) -> [Filing] {
        actions.compactMap { if case .file(let filing) = $0 { return filing } else { return nil } }
    }

    private enum ServerAnswer {
        static let busy = AttemptResult.response(status: 503, retryAfter: nil)
    }

    private func deferrals(_ actions: [DispatchAction]) -> [Deferral] {
        actions.compactMap { if case .deferJob(let deferral) = $0 { return deferral } else { return nil } }
    }

    // MARK: durability order 1: a job is sent only once its accepted line is on disk

    func testAJobIsNotSentBeforeItsAcceptedLineIsDurable() throws {
        var core = try makeCore()
        _ = core.intakeDelivered([try intakeJob("a", line: 5, core: core)], now: 1000)
        XCTAssertTrue(started(core.tick(now: 1000, durableLines: 4)).isEmpty, "line 5 is not on disk yet")
        XCTAssertEqual(core.ready.count, 1)
        XCTAssertEqual(started(core.tick(now: 1000, durableLines: 5)).map(\.name), ["a.json"])
        XCTAssertTrue(core.ready.isEmpty)
    }

    func testAJobAdmittedWithoutALineWaitsForTheLineItAsksFor() throws {
        var core = try makeCore()
        let job = try Fixture.job(url: "http://acme.example/a", id: "late")
        let actions = core.intakeDelivered([.job(name: "late.json", job: job, inode: 1, bytes: 100, state: nil, pass: nil, acceptedLine: 0)], now: 1000)
        guard case .queueAcceptedLine(let name, _)? = actions.first else { return XCTFail("expected an accepted line to be asked for: \(actions)") }
        XCTAssertEqual(name, "late.json")
        XCTAssertTrue(started(core.tick(now: 1000, durableLines: 1_000_000)).isEmpty, "no line number reported yet")
        core.acceptedLineQueued(9, forJobNamed: "late.json")
        XCTAssertTrue(started(core.tick(now: 1000, durableLines: 8)).isEmpty)
        XCTAssertEqual(started(core.tick(now: 1000, durableLines: 9)).count, 1)
    }

    // MARK: limits

    func testConcurrencyAndPerHostLimitsHold() throws {
        var core = try makeCore { $0.concurrency = 3; $0.perHostConcurrency = 2 }
        let results = try (1...5).map { try intakeJob("a\($0)", line: $0, core: core) }
            + [try intakeJob("b1", url: "http://other.example/b", line: 6, core: core)]
        _ = core.intakeDelivered(results, now: 1000)
        let first = started(core.tick(now: 1000, durableLines: 100))
        XCTAssertEqual(first.map(\.name), ["a1.json", "a2.json", "b1.json"], "two to acme (its limit), then the other host")
        XCTAssertTrue(started(core.tick(now: 1000, durableLines: 100)).isEmpty, "all three slots are busy")
        _ = core.transferFinished(token: first[0].token, result: .response(status: 200, retryAfter: nil), milliseconds: 3, now: 1001)
        XCTAssertEqual(started(core.tick(now: 1001, durableLines: 100)).map(\.name), ["a3.json"])
    }

    func testTheClaimWindowIsEightTimesConcurrencyLessWhatTheLoopHolds() throws {
        var core = try makeCore { $0.concurrency = 2 }
        XCTAssertEqual(core.intakeCredit(now: 1000), 16)
        _ = core.intakeDelivered(try (1...5).map { try intakeJob("j\($0)", line: $0, core: core) }, now: 1000)
        XCTAssertEqual(core.intakeCredit(now: 1000), 11)
        _ = core.tick(now: 1000, durableLines: 100)
        XCTAssertEqual(core.intakeCredit(now: 1000), 11, "in flight counts like ready")
    }

    func testJobsBeingSetAsideTakeRoomInTheClaimWindowOnlyPastEightWindowsOfThem() throws {
        var core = try makeCore { $0.concurrency = 1 }
        XCTAssertEqual(core.intakeCredit(now: 1000), 8)
        var saved: [Deferral] = []
        for index in 1...66 {
            _ = core.intakeDelivered([try intakeJob("j\(index)", line: index, core: core)], now: 1000)
            let token = try XCTUnwrap(started(core.tick(now: 1000, durableLines: index)).first?.token)
            saved += deferrals(core.transferFinished(token: token, result: ServerAnswer.busy, milliseconds: 1, now: 1000))
        }
        XCTAssertEqual(saved.count, 66)
        XCTAssertEqual(core.intakeCredit(now: 1000), 6, "66 under way, 64 of them outside the window")
        core.deferralMade(as: "j1.json", recordedAs: "j1.json", due: saved[0].state.nextAttemptAt, lane: nil)
        core.deferralNotSaved(saved[1])
        XCTAssertEqual(core.intakeCredit(now: 1000), 8)
    }

    // MARK: a destination that stops answering

    func testAStalledDestinationIsOneThatEndedNoTransferForAQuarterOfTimeoutMsAtMostFiveSeconds() {
        XCTAssertEqual(HostLoad.stallSeconds(timeoutMs: 4000), 1)
        XCTAssertEqual(HostLoad.stallSeconds(timeoutMs: 3000), 0.75)
        XCTAssertEqual(HostLoad.stallSeconds(timeoutMs: 30000), 5, "the default timeoutMs")
    }

    func testADestinationAtItsShareWhoseTransfersStopEndingIsStalledAfterASecond() throws {
        var core = try makeCore { $0.concurrency = 4; $0.perHostConcurrency = 2; $0.timeoutMs = 4000 }
        let acme = try Fixture.job(url: "http://acme.example/a").url.hostKey
        let results = try (1...3).map { try intakeJob("a\($0)", line: $0, core: core) }
            + [try intakeJob("b1", url: "http://other.example/b", line: 4, core: core)]
        _ = core.intakeDelivered(results, now: 1000)
        let first = started(core.tick(now: 1000, durableLines: 100))
        XCTAssertEqual(first.map(\.name), ["a1.json", "a2.json", "b1.json"])
        XCTAssertEqual(core.stalledDestinations(now: 1000.9), [], "not yet a second")
        XCTAssertEqual(core.stalledDestinations(now: 1001), [acme], "at its share, nothing ended for a second; other.example has room")
        // A transfer that ends is movement: the slot is refilled, and the second starts over.
        _ = core.transferFinished(token: first[0].token, result: .response(status: 204, retryAfter: nil), milliseconds: 3, now: 1001.2)
        XCTAssertEqual(core.stalledDestinations(now: 1001.2), [])
        XCTAssertEqual(started(core.tick(now: 1001.2, durableLines: 100)).map(\.name), ["a3.json"])
        XCTAssertEqual(core.stalledDestinations(now: 1002.1), [])
        XCTAssertEqual(core.stalledDestinations(now: 1002.2), [acme])
    }

    func testTheLoopWakesWhenADestinationWouldStall() throws {
        var core = try makeCore { $0.concurrency = 4; $0.perHostConcurrency = 1; $0.timeoutMs = 4000 }
        _ = core.intakeDelivered([try intakeJob("a1", line: 1, core: core)], now: 1000)
        XCTAssertEqual(started(core.tick(now: 1000.3, durableLines: 100)).count, 1)
        XCTAssertEqual(core.sleepMilliseconds(now: 1000.5), 800, "until acme would stall, a second after its transfer started")
        XCTAssertEqual(core.sleepMilliseconds(now: 1001.5), 500, "stalled already: until the next rescan, not at once")
    }

    func testJobsWaitingOnAStalledDestinationLeaveTheIntakeItsRoom() throws {
        var core = try makeCore { $0.concurrency = 2; $0.perHostConcurrency = 1; $0.timeoutMs = 4000 }
        _ = core.intakeDelivered(try (1...10).map { try intakeJob("a\($0)", line: $0, core: core) }, now: 1000)
        let first = started(core.tick(now: 1000, durableLines: 100))
        XCTAssertEqual(first.count, 1, "one at a time to acme")
        XCTAssertEqual(core.intakeCredit(now: 1000), 6, "16 less the ten held")
        XCTAssertEqual(core.intakeCredit(now: 1001), 15, "stalled: its nine waiting jobs no longer count, the one in flight does")
        _ = core.transferFinished(token: first[0].token, result: .response(status: 204, retryAfter: nil), milliseconds: 3, now: 1001.5)
        _ = core.tick(now: 1001.5, durableLines: 100)
        XCTAssertEqual(core.intakeCredit(now: 1001.5), 7, "moving again: every job counts")
    }

    func testDueRetriesKeepTheirRoomWhileADestinationIsStalledAndAtMostOneWindowGoesUncounted() throws {
        var core = try makeCore { $0.concurrency = 2; $0.perHostConcurrency = 1; $0.timeoutMs = 4000 }
        _ = core.intakeDelivered(try (1...40).map { try intakeJob("a\($0)", line: $0, core: core) }, now: 1000)
        XCTAssertEqual(started(core.tick(now: 1000, durableLines: 100)).count, 1)
        core.deferredFound([(name: "r.json", due: 999)])
        // Stalled, with 39 waiting: 16 of them (one window) go uncounted, so 40 - 16 = 24 count,
        // more than the window: no room for the intake, and none for retries beyond it.
        XCTAssertEqual(core.intakeCredit(now: 1001), 0)
        XCTAssertEqual(core.retriesToClaim(now: 1001, reservedByIntake: 0), [])
        XCTAssertEqual(core.sleepMilliseconds(now: 1001), 1000, "no room for the due retry: the loop sleeps, it does not spin")
        // With 9 waiting, all go uncounted; the intake keeps one concurrency back for the retry.
        var small = try makeCore { $0.concurrency = 2; $0.perHostConcurrency = 1; $0.timeoutMs = 4000 }
        _ = small.intakeDelivered(try (1...10).map { try intakeJob("b\($0)", line: $0, core: small) }, now: 1000)
        _ = small.tick(now: 1000, durableLines: 100)
        small.deferredFound([(name: "r.json", due: 999)])
        let credit = small.intakeCredit(now: 1001)
        XCTAssertEqual(credit, 16 - 1 - 2)
        XCTAssertEqual(small.retriesToClaim(now: 1001, reservedByIntake: credit), ["r.json"], "the retry gets the room kept for it")
    }

    func testDueRetriesShareTheWindowAndKeepRoomFromTheIntake() throws {
        var core = try makeCore { $0.concurrency = 2 }
        core.deferredFound((1...20).map { (name: "r\($0).json", due: 999.0) })
        XCTAssertEqual(core.intakeCredit(now: 1000), 14, "one concurrency kept back while retries are due")
        let names = core.retriesToClaim(now: 1000, reservedByIntake: 10)
        XCTAssertEqual(names.count, 6, "16 in the window less the intake's 10")
        XCTAssertEqual(core.retriesToClaim(now: 1000, reservedByIntake: 16), [], "no room beyond the window")
        XCTAssertEqual(core.schedule.count, 14)
    }

    func testARetryWhoseClaimFailedIsTriedAgainASecondLaterNotOnEveryPass() throws {
        var core = try makeCore()
        core.deferredFound([(name: "r.json", due: 990)])
        XCTAssertEqual(core.retriesToClaim(now: 1000, reservedByIntake: 0), ["r.json"])
        core.retryPutOff("r.json", now: 1000)
        XCTAssertTrue(core.isScheduled("r.json"), "a scan of deferred/ must not find it due again at once")
        XCTAssertEqual(core.retriesToClaim(now: 1000.9, reservedByIntake: 0), [])
        XCTAssertEqual(core.retriesToClaim(now: 1001, reservedByIntake: 0), ["r.json"])
    }

    // MARK: outcomes

    func testADeferralKeepsTheAttemptCountAndTheFirstClaimTime() throws {
        var core = try makeCore()
        let state = JobState(attempts: 2, firstClaimedAt: 500, nextAttemptAt: 990, inode: 7)
        _ = core.retryClaimed("r.json", job: try Fixture.job(url: "http://acme.example/r", id: "r"), inode: 7, state: state, now: 1000)
        let token = try XCTUnwrap(started(core.tick(now: 1000, durableLines: 0)).first?.token, "a retry has no accepted line to wait for")
        let actions = core.transferFinished(token: token, result: .response(status: 503, retryAfter: nil), milliseconds: 4, now: 1001)
        let deferral = try XCTUnwrap(deferrals(actions).first)
        XCTAssertEqual(deferral.state.attempts, 3)
        XCTAssertEqual(deferral.state.firstClaimedAt, 500)
        XCTAssertEqual(deferral.state.nextAttemptAt, 1001 + 4, "1 s × 2^(3−1), no jitter")
        XCTAssertEqual(deferral.record.event, .deferred)
        XCTAssertEqual(deferral.record.attempt, 3)
        core.deferralFiled(as: "r.json", due: deferral.state.nextAttemptAt)
        XCTAssertEqual(core.retriesToClaim(now: 1004.9, reservedByIntake: 0), [])
        XCTAssertEqual(core.retriesToClaim(now: 1005, reservedByIntake: 0), ["r.json"])
    }

    func testOutcomesAreFiledWithRecordAndSidecar() throws {
        var core = try makeCore()
        _ = core.intakeDelivered([try intakeJob("ok", line: 1, core: core), try intakeJob("no", line: 2, core: core)], now: 1000)
        let tokens = started(core.tick(now: 1000, durableLines: 2))
        let delivered = filings(core.transferFinished(token: tokens[0].token, result: .response(status: 204, retryAfter: nil), milliseconds: 1, now: 1001))
        XCTAssertEqual(delivered.map(\.folder), [.delivered])
        XCTAssertNil(delivered.first?.sidecar)
        XCTAssertEqual(delivered.first?.record.status, 204)
        let failed = filings(core.transferFinished(token: tokens[1].token, result: .response(status: 404, retryAfter: nil), milliseconds: 1, now: 1001))
        XCTAssertEqual(failed.map(\.folder), [.failed])
        XCTAssertEqual(failed.first?.sidecar?.reason, "http_status")
        XCTAssertEqual(failed.first?.sidecar?.attempts, 1)
        XCTAssertEqual(core.summary.delivered, 1)
        XCTAssertEqual(core.summary.failed, 1)
    }

    func testTheGateIsCheckedAgainAfterAReload() throws {
        var core = try makeCore()
        _ = core.intakeDelivered([try intakeJob("a", line: 1, core: core)], now: 1000)
        let inactive = ClientRegistry([try Fixture.record(status: .inactive, endpoints: ["http://acme.example/"])])
        core.reloaded(settings: settings, gate: Gate(registry: inactive, environment: .nonProduction), policy: RetryPolicy(settings: settings.retry))
        let actions = core.tick(now: 1000, durableLines: 1)
        XCTAssertTrue(started(actions).isEmpty, "nothing is sent for a client made inactive")
        XCTAssertEqual(filings(actions).map(\.folder), [.refused])
        XCTAssertEqual(filings(actions).first?.record.reason, "inactive_client_id")
    }

    func testAJobPastItsDeadlineFailsExpiredWithoutBeingSent() throws {
        var core = try makeCore()
        let state = JobState(attempts: 1, firstClaimedAt: 1000 - 86_401, nextAttemptAt: 999, inode: 7)
        _ = core.retryClaimed("old.json", job: try Fixture.job(url: "http://acme.example/o", id: "old"), inode: 7, state: state, now: 1000)
        let actions = core.tick(now: 1000, durableLines: 0)
        XCTAssertTrue(started(actions).isEmpty)
        XCTAssertEqual(filings(actions).first?.record.reason, "expired")
    }

    // MARK: drain's end, stop and rollback

    func testADrainEndsOnlyAfterALastPassFindsIncomingEmpty() throws {
        var core = try makeCore()
        let idle = DispatchCore.ShellFacts(intakeIdle: true, auditSettled: true, answeredPasses: 3)
        XCTAssertEqual(core.endDecision(now: 1000, facts: idle), .scanDeferredFolderFirst)
        XCTAssertEqual(core.endDecision(now: 1000, facts: idle, deferredFolderScanned: true), .requestLastPass)
        XCTAssertEqual(core.endDecision(now: 1000, facts: idle, deferredFolderScanned: true), .keepGoing, "the pass is not answered yet")
        var answered = idle
        answered.answeredPasses = 4
        XCTAssertEqual(core.endDecision(now: 1000, facts: answered, deferredFolderScanned: true), .end(.finished))
    }

    func testADrainDoesNotEndWhileAnythingIsHeldOrUnsettled() throws {
        var core = try makeCore()
        _ = core.intakeDelivered([try intakeJob("a", line: 1, core: core)], now: 1000)
        let idle = DispatchCore.ShellFacts(intakeIdle: true, auditSettled: true, answeredPasses: 0)
        XCTAssertEqual(core.endDecision(now: 1000, facts: idle), .keepGoing, "a job is ready")
        let token = try XCTUnwrap(started(core.tick(now: 1000, durableLines: 1)).first?.token)
        XCTAssertEqual(core.endDecision(now: 1000, facts: idle), .keepGoing, "a job is in flight")
        _ = core.transferFinished(token: token, result: .response(status: 200, retryAfter: nil), milliseconds: 1, now: 1000)
        var unsettled = idle
        unsettled.auditSettled = false
        XCTAssertEqual(core.endDecision(now: 1000, facts: unsettled), .keepGoing, "its line is not on disk or it is not filed")
        unsettled.auditSettled = true
        unsettled.intakeIdle = false
        XCTAssertEqual(core.endDecision(now: 1000, facts: unsettled), .keepGoing, "the intake is busy")
    }

    func testADrainDoesNotEndWhileAJobIsBeingSetAside() throws {
        var core = try makeCore()
        _ = core.intakeDelivered([try intakeJob("a", line: 1, core: core), try intakeJob("b", line: 2, core: core)], now: 1000)
        let tokens = started(core.tick(now: 1000, durableLines: 2))
        let busy = ServerAnswer.busy
        let first = try XCTUnwrap(deferrals(core.transferFinished(token: tokens[0].token, result: busy, milliseconds: 1, now: 1000)).first)
        let second = try XCTUnwrap(deferrals(core.transferFinished(token: tokens[1].token, result: busy, milliseconds: 1, now: 1000)).first)
        let idle = DispatchCore.ShellFacts(intakeIdle: true, auditSettled: true, answeredPasses: 0)
        XCTAssertEqual(core.endDecision(now: 1000, facts: idle), .keepGoing, "two deferrals are under way")
        core.deferralMade(as: "a.json", recordedAs: "a.json", due: first.state.nextAttemptAt, lane: nil)
        core.deferralNotSaved(second)
        XCTAssertEqual(core.summary.deferred, 1, "the one whose state was not saved is not counted")
        XCTAssertEqual(core.endDecision(now: 1000, facts: idle), .keepGoing, "a.json waits in deferred/ for its retry")
        XCTAssertEqual(core.retriesToClaim(now: first.state.nextAttemptAt, reservedByIntake: 0), ["a.json"])
    }

    func testAJobOnItsWayIntoDeferredIsLeftToItsDeferralByTheDeferredScan() throws {
        var core = try makeCore()
        _ = core.intakeDelivered([try intakeJob("a", line: 1, core: core)], now: 1000)
        let token = try XCTUnwrap(started(core.tick(now: 1000, durableLines: 1)).first?.token)
        let deferral = try XCTUnwrap(deferrals(core.transferFinished(token: token, result: ServerAnswer.busy, milliseconds: 1, now: 1000)).first)
        core.deferralRecorded(as: "a.json")
        XCTAssertTrue(core.isScheduled("a.json"), "moved into deferred/ but not reported yet: the scan passes over it")
        core.deferralMade(as: "a~1.json", recordedAs: "a.json", due: deferral.state.nextAttemptAt, lane: nil)
        XCTAssertFalse(core.isScheduled("a.json"), "it got another name after a clash")
        XCTAssertTrue(core.isScheduled("a~1.json"))
    }

    func testOnlyAFailedAttemptCountsAsARetryInTheSummary() throws {
        var core = try makeCore()
        _ = core.intakeDelivered([try intakeJob("a", line: 1, core: core)], now: 1000)
        let token = try XCTUnwrap(started(core.tick(now: 1000, durableLines: 1)).first?.token)
        let failed = try XCTUnwrap(deferrals(core.transferFinished(token: token, result: ServerAnswer.busy, milliseconds: 1, now: 1000)).first)
        XCTAssertTrue(failed.countsAsRetry)
        XCTAssertEqual(core.summary.deferred, 1)
        let claimed = ClaimedJob(name: "b.json", job: try Fixture.job(url: "http://acme.example/b", id: "b"), inode: 8, bytes: 1,
                                 origin: .incoming, attempts: 0, firstClaimedAt: 1000, hasSavedState: false)
        let down = try XCTUnwrap(deferrals(core.setAside(claimed, failed)).first, "set aside while its destination is down")
        XCTAssertFalse(down.countsAsRetry)
        core.deferralNotSaved(down)
        XCTAssertEqual(core.summary.deferred, 1, "a job set aside without an attempt was never counted")
        core.deferralNotSaved(failed)
        XCTAssertEqual(core.summary.deferred, 0)
    }

    func testADrainWithMaxWaitEndsWithRetriesStillDeferred() throws {
        var core = try makeCore(.drain(maxWaitSeconds: 5))
        core.deferredFound([(name: "later.json", due: 2000)])
        let idle = DispatchCore.ShellFacts(intakeIdle: true, auditSettled: true, answeredPasses: 0)
        XCTAssertEqual(core.endDecision(now: 1004, facts: idle), .keepGoing)
        XCTAssertEqual(core.sleepMilliseconds(now: 1004), 0, "the rescan timer (every 2 s) is due")
        _ = core.timersFired(now: 1004)
        XCTAssertEqual(core.sleepMilliseconds(now: 1004), 1000, "until --max-wait (and recovery) a second later")
        XCTAssertEqual(core.endDecision(now: 1005, facts: idle), .end(.deferredRemaining))
    }

    func testADrainPastItsMaxWaitWithATransferInFlightSleepsInsteadOfSpinning() throws {
        var core = try makeCore(.drain(maxWaitSeconds: 5))
        _ = core.intakeDelivered([try intakeJob("slow", line: 1, core: core)], now: 1000)
        XCTAssertEqual(started(core.tick(now: 1000, durableLines: 1)).count, 1)
        _ = core.timersFired(now: 1006)
        let idle = DispatchCore.ShellFacts(intakeIdle: true, auditSettled: true, answeredPasses: 0)
        XCTAssertEqual(core.endDecision(now: 1006, facts: idle), .keepGoing, "its transfer is still in flight")
        XCTAssertEqual(core.sleepMilliseconds(now: 1006), 1000,
                       "--max-wait has passed: it no longer wakes the loop; the transfer's end will")
    }

    func testADueRetryWithNoRoomInTheWindowDoesNotKeepTheLoopAwake() throws {
        var core = try makeCore(.run(graceSeconds: 3)) { $0.concurrency = 1 }
        let window = core.window.size
        let jobs = try (1...window).map { try intakeJob("j\($0)", line: $0, core: core) }
        _ = core.intakeDelivered(jobs, now: 1000)
        let first = started(core.tick(now: 1000, durableLines: window))
        XCTAssertEqual(first.count, 1)
        core.deferredFound([(name: "retry.json", due: 1000.5)])
        _ = core.timersFired(now: 1001)
        XCTAssertEqual(core.retriesToClaim(now: 1001, reservedByIntake: 0), [], "the window is full")
        XCTAssertEqual(core.sleepMilliseconds(now: 1001), 1000,
                       "the due retry cannot be claimed: the loop sleeps until something leaves")
        let token = try XCTUnwrap(first.first?.token)
        _ = core.transferFinished(token: token, result: .response(status: 200, retryAfter: nil), milliseconds: 1, now: 1001)
        XCTAssertEqual(core.sleepMilliseconds(now: 1001), 0, "room again: the retry is claimed at once")
    }

    func testADueRetryDoesNotKeepAStoppingRunAwake() throws {
        var core = try makeCore(.run(graceSeconds: 3))
        core.deferredFound([(name: "retry.json", due: 999)])
        XCTAssertEqual(core.sleepMilliseconds(now: 1000), 0, "running: the due retry is claimed at once")
        _ = core.stopRequested(now: 1000)
        XCTAssertEqual(core.retriesToClaim(now: 1000, reservedByIntake: 0), [], "nothing is claimed once stopping")
        XCTAssertEqual(core.sleepMilliseconds(now: 1000), 1000, "so the retry no longer wakes the loop")
    }

    func testAStopPutsBackWhatWaitsAndLetsTransfersFinishWithinTheGrace() throws {
        var core = try makeCore(.run(graceSeconds: 3)) { $0.concurrency = 1 }
        _ = core.intakeDelivered([try intakeJob("a", line: 1, core: core), try intakeJob("b", line: 2, core: core)], now: 1000)
        let token = try XCTUnwrap(started(core.tick(now: 1000, durableLines: 2)).first?.token)
        let stop = core.stopRequested(now: 1000)
        guard case .putBack(let name, let folder, let bytes)? = stop.first, stop.count == 1 else { return XCTFail("\(stop)") }
        XCTAssertEqual(name, "b.json")
        XCTAssertEqual(folder, .incoming)
        XCTAssertEqual(bytes, 100, "its bytes leave the budget")
        XCTAssertEqual(core.intakeCredit(now: 1000), 0, "nothing new is claimed")
        let facts = DispatchCore.ShellFacts(intakeIdle: false, auditSettled: false, answeredPasses: 0)
        XCTAssertEqual(core.endDecision(now: 1002, facts: facts), .keepGoing, "a transfer is in flight within the grace")
        XCTAssertEqual(core.endDecision(now: 1003, facts: facts), .end(.stopped))
        let rollback = core.ending(abortedTokens: [token])
        guard case .putBack(let aborted, .incoming, _)? = rollback.first else { return XCTFail("\(rollback)") }
        XCTAssertEqual(aborted, "a.json")
        XCTAssertTrue(core.inFlight.isEmpty)
    }

    func testARetryGoesBackToDeferredAtTheEnd() throws {
        var core = try makeCore(.run(graceSeconds: 0))
        _ = core.retryClaimed("r.json", job: try Fixture.job(url: "http://acme.example/r", id: "r"), inode: 7,
                              state: JobState(attempts: 1, firstClaimedAt: 999, nextAttemptAt: 999, inode: 7), now: 1000)
        let rollback = core.ending(abortedTokens: [])
        guard case .putBack("r.json", .deferred, _)? = rollback.first else { return XCTFail("\(rollback)") }
    }

    // MARK: destinations that are down (contract 13)

    private func connectFailure() -> AttemptResult {
        .transportError(TransportError(kind: .connect, detail: "Couldn't connect to server"))
    }

    func testADownDestinationsJobsAreSetAsideWithoutAnAttemptAndOthersGoOn() throws {
        var core = try makeCore { $0.circuit.failureThreshold = 2; $0.circuit.cooldownMs = 30_000; $0.retry.baseDelayMs = 10 }
        _ = core.intakeDelivered(try (1...2).map { try intakeJob("f\($0)", line: $0, core: core) }, now: 1000)
        var events: [DestinationEvent] = []
        for started in started(core.tick(now: 1000, durableLines: 10)) {
            for action in core.transferFinished(token: started.token, result: connectFailure(), milliseconds: 1, now: 1001) {
                if case .destinationChanged(let event) = action { events.append(event) }
            }
        }
        XCTAssertEqual(events.map(\.kind), [.down], "two connect failures in a row open the circuit")
        XCTAssertEqual(events.first?.destination.description, "http://acme.example:80")
        _ = core.intakeDelivered([try intakeJob("later", line: 3, core: core),
                                  try intakeJob("elsewhere", url: "http://other.example/x", line: 4, core: core)], now: 1002)
        let actions = core.tick(now: 1002, durableLines: 10)
        XCTAssertEqual(started(actions).map(\.name), ["elsewhere.json"], "another destination is not held up")
        let setAside = try XCTUnwrap(deferrals(actions).first)
        XCTAssertEqual(setAside.name, "later.json")
        XCTAssertEqual(setAside.state.attempts, 0, "no attempt is counted while down")
        XCTAssertEqual(setAside.record.reason, "destination_down")
        XCTAssertEqual(setAside.state.nextAttemptAt, 1001 + 30, "until the cooldown ends")
    }

    func testAfterTheCooldownOneProbeDecidesAndSuccessBringsItUp() throws {
        var core = try makeCore { $0.circuit.failureThreshold = 1; $0.circuit.cooldownMs = 1000 }
        _ = core.intakeDelivered([try intakeJob("a", line: 1, core: core)], now: 1000)
        let first = try XCTUnwrap(started(core.tick(now: 1000, durableLines: 1)).first)
        _ = core.transferFinished(token: first.token, result: connectFailure(), milliseconds: 1, now: 1000)
        _ = core.intakeDelivered([try intakeJob("p1", line: 2, core: core), try intakeJob("p2", line: 3, core: core)], now: 1001.5)
        let probeTick = core.tick(now: 1001.5, durableLines: 3)
        XCTAssertEqual(started(probeTick).map(\.name), ["p1.json"], "one probe only")
        XCTAssertEqual(deferrals(probeTick).map(\.name), ["p2.json"])
        let up = core.transferFinished(token: started(probeTick)[0].token, result: .response(status: 204, retryAfter: nil), milliseconds: 1, now: 1002)
        guard case .destinationChanged(let event)? = up.first else { return XCTFail("\(up)") }
        XCTAssertEqual(event.kind, .up)
        XCTAssertTrue(core.destinations.down.isEmpty)
    }

    func testHTTPStatusesNeverOpenTheCircuit() throws {
        var core = try makeCore { $0.circuit.failureThreshold = 1 }
        _ = core.intakeDelivered([try intakeJob("a", line: 1, core: core)], now: 1000)
        let token = try XCTUnwrap(started(core.tick(now: 1000, durableLines: 1)).first?.token)
        let actions = core.transferFinished(token: token, result: .response(status: 503, retryAfter: nil), milliseconds: 1, now: 1000)
        XCTAssertFalse(actions.contains { if case .destinationChanged = $0 { return true } else { return false } })
        XCTAssertTrue(core.destinations.down.isEmpty)
    }
}
