import XCTest
@testable import OutboundCore

/// Ordered lanes in the dispatch core (contract 14), fed events and read back as actions.
final class DispatchCoreLaneTests: XCTestCase {
    private func makeCore(onFailure: LaneFailurePolicy = .block) throws -> DispatchCore {
        var settings = Settings(environment: .nonProduction, auditLogPath: "/nonexistent/audit.jsonl")
        settings.laneOnFailure = onFailure
        let registry = ClientRegistry([try Fixture.record(endpoints: ["http://acme.example/"])])
        return DispatchCore(mode: .drain(maxWaitSeconds: nil), settings: settings, gate: Gate(registry: registry, environment: .nonProduction),
                            policy: RetryPolicy(settings: settings.retry, jitter: FixedJitter(value: 1)), now: 1000)
    }

    private func laneJob(_ name: String, key: String? = "p1", line: Int = 1, core: DispatchCore) throws -> IntakeResult {
        let job = try Fixture.job(url: "http://acme.example/a", id: name, orderingKey: key)
        let pass = try GatePass(generation: core.generation, client: Fixture.record(endpoints: ["http://acme.example/"]))
        return .job(name: "\(name).json", job: job, inode: 7, bytes: 100, state: nil, pass: pass, acceptedLine: line)
    }

    private func ok(_ core: inout DispatchCore, _ token: Int, status: Int = 204) -> [DispatchAction] {
        core.transferFinished(token: token, result: .response(status: status, retryAfter: nil), milliseconds: 1, now: 1001)
    }

    func testALaneSendsOneJobAtATimeInNameOrderWhileOthersGoTogether() throws {
        var core = try makeCore()
        _ = core.intakeDelivered([try laneJob("3", core: core), try laneJob("1", core: core), try laneJob("2", core: core),
                                  try laneJob("u1", key: nil, core: core), try laneJob("u2", key: nil, core: core)], now: 1000)
        var first = started(core.tick(now: 1000, durableLines: 10))
        XCTAssertEqual(Set(first.map(\.name)), ["3.json", "u1.json", "u2.json"], "the lane's first arrival goes; jobs without orderingKey never wait")
        var order = ["3.json"]
        var token = first.first { $0.name == "3.json" }!.token
        _ = ok(&core, token)
        for _ in 0..<2 {
            first = started(core.tick(now: 1001, durableLines: 10))
            XCTAssertEqual(first.count, 1)
            order.append(first[0].name)
            token = first[0].token
            XCTAssertTrue(started(core.tick(now: 1001, durableLines: 10)).isEmpty, "nothing else of the lane while one is in flight")
            _ = ok(&core, token)
        }
        XCTAssertEqual(order, ["3.json", "1.json", "2.json"], "behind the head, in name order")
    }

    func testARetryAtTheHeadHoldsItsLaneAndNoOther() throws {
        var core = try makeCore()
        _ = core.intakeDelivered([try laneJob("1", core: core), try laneJob("2", core: core), try laneJob("x", key: "p2", core: core)], now: 1000)
        let first = started(core.tick(now: 1000, durableLines: 10))
        XCTAssertEqual(Set(first.map(\.name)), ["1.json", "x.json"])
        let deferral = core.transferFinished(token: first.first { $0.name == "1.json" }!.token,
                                             result: .response(status: 503, retryAfter: nil), milliseconds: 1, now: 1001)
        guard case .deferJob(let saved)? = deferral.first else { return XCTFail("expected a deferral: \(deferral)") }
        XCTAssertEqual(saved.state.lane, LaneKey(clientId: Fixture.clientId, orderingKey: "p1"), "the lane is in the job's state")
        guard case .parkBehindRetry(let parked, let folder, _, let until)? = deferral.last else { return XCTFail("2 is parked: \(deferral)") }
        XCTAssertEqual([parked, folder.rawValue], ["2.json", "incoming"])
        XCTAssertEqual(until, saved.state.nextAttemptAt, "until its head is due")
        XCTAssertEqual(core.intakeCredit(now: 1001), 64 * 8 - 1, "a parked job holds no room in the window; only x is in flight")
        core.deferralFiled(as: "1.json", due: saved.state.nextAttemptAt, lane: saved.state.lane)
        XCTAssertTrue(started(core.tick(now: 1001, durableLines: 10)).isEmpty)
        let back = core.intakeDelivered([try laneJob("2", core: core)], now: 1001.5)
        guard case .parkBehindRetry? = back.first else { return XCTFail("back before its head: parked again: \(back)") }
        _ = core.retryClaimed("1.json", job: try Fixture.job(url: "http://acme.example/a", id: "1", orderingKey: "p1"), inode: 7,
                              state: saved.state, now: 1002)
        _ = core.intakeDelivered([try laneJob("2", core: core)], now: 1002)
        let retry = started(core.tick(now: 1002, durableLines: 10))
        XCTAssertEqual(retry.map(\.name), ["1.json"], "2 came back and waits behind its head")
        _ = ok(&core, retry[0].token)
        XCTAssertEqual(started(core.tick(now: 1002, durableLines: 10)).map(\.name), ["2.json"])
    }

    func testAFailedHeadBlocksTheLaneAndItsLaterJobsGoToHold() throws {
        var core = try makeCore()
        _ = core.intakeDelivered([try laneJob("1", core: core), try laneJob("2", core: core)], now: 1000)
        let token = started(core.tick(now: 1000, durableLines: 10))[0].token
        let actions = ok(&core, token, status: 404)
        var blockedBy: String?
        var held: [String] = []
        for action in actions {
            if case .laneBlocked(_, let byJob, let record) = action {
                blockedBy = byJob
                XCTAssertEqual(record.event, .laneBlocked)
            }
            if case .holdInBlockedLane(let filing, _) = action {
                XCTAssertEqual(filing.folder, .hold)
                XCTAssertEqual(filing.record.event, .laneBlocked)
                XCTAssertEqual(filing.record.blockedBy, "1.json")
                held.append(filing.name)
            }
        }
        XCTAssertEqual(blockedBy, "1.json")
        XCTAssertEqual(held, ["2.json"])
        // The marker before the job at fault leaves its claim: filed first, a failed marker
        // would leave it in failed/ with nothing on disk holding its lane.
        let blockAt = actions.firstIndex { if case .laneBlocked = $0 { return true } else { return false } }
        let fileAt = actions.firstIndex { if case .file(let filing) = $0 { return filing.name == "1.json" } else { return false } }
        XCTAssertNotNil(fileAt, "the job at fault is filed: \(actions)")
        XCTAssertLessThan(blockAt ?? .max, fileAt ?? .min, "the lane is blocked before its job at fault is filed: \(actions)")
        let later = core.intakeDelivered([try laneJob("3", core: core)], now: 1002)
        guard case .holdInBlockedLane(let filing, _)? = later.first else { return XCTFail("a later arrival is held too: \(later)") }
        XCTAssertEqual(filing.name, "3.json")
    }

    func testTheNextJobOfALaneWaitsForAnUnreadFileThatSortsBeforeIt() throws {
        var core = try makeCore()
        _ = core.intakeDelivered([try laneJob("1", core: core), try laneJob("3", core: core), try laneJob("4", core: core)], now: 1000)
        let token = started(core.tick(now: 1000, durableLines: 10))[0].token
        // "2.json" came late and could not be read yet: it may be the lane's second job.
        core.earliestUnread = "2.json"
        let actions = ok(&core, token)
        let parked = actions.compactMap { if case .parkBehindRetry(let name, _, _, let until) = $0 { return (name, until) } else { return nil } }
        XCTAssertEqual(parked.map(\.0), ["3.json", "4.json"], "3 and what is behind it wait: \(actions)")
        XCTAssertTrue(parked.allSatisfy { $0.1 == 1001 + DispatchCore.unreadRecheckSeconds })
        XCTAssertTrue(started(core.tick(now: 1001, durableLines: 10)).isEmpty)
        // 2 is read and comes in; then 3 and 4 come back, and the lane goes in name order.
        core.earliestUnread = nil
        _ = core.intakeDelivered([try laneJob("2", core: core)], now: 1001.5)
        let second = started(core.tick(now: 1001.5, durableLines: 10))
        XCTAssertEqual(second.map(\.name), ["2.json"])
        _ = core.intakeDelivered([try laneJob("3", core: core), try laneJob("4", core: core)], now: 1002)
        _ = ok(&core, try XCTUnwrap(second.first).token)
        XCTAssertEqual(started(core.tick(now: 1002, durableLines: 10)).map(\.name), ["3.json"])
    }

    func testAnUnreadFileAfterTheNextJobOfALaneHoldsNothing() throws {
        var core = try makeCore()
        _ = core.intakeDelivered([try laneJob("1", core: core), try laneJob("3", core: core)], now: 1000)
        let token = started(core.tick(now: 1000, durableLines: 10))[0].token
        core.earliestUnread = "5.json"
        _ = ok(&core, token)
        XCTAssertEqual(started(core.tick(now: 1001, durableLines: 10)).map(\.name), ["3.json"])
    }

    func testSkipContinuesTheLaneAfterAFailure() throws {
        var core = try makeCore(onFailure: .skip)
        _ = core.intakeDelivered([try laneJob("1", core: core), try laneJob("2", core: core)], now: 1000)
        let token = started(core.tick(now: 1000, durableLines: 10))[0].token
        let actions = ok(&core, token, status: 404)
        XCTAssertFalse(actions.contains { if case .holdInBlockedLane = $0 { return true } else { return false } })
        XCTAssertEqual(started(core.tick(now: 1001, durableLines: 10)).map(\.name), ["2.json"])
    }

    func testAProcessThatDoesNotOwnTheLanesHandsLaneJobsBack() throws {
        var core = try makeCore()
        core.laneOwnershipChanged(owns: false)
        let actions = core.intakeDelivered([try laneJob("1", core: core), try laneJob("u", key: nil, core: core)], now: 1000)
        guard case .yieldToLaneOwner(let name, let folder, _)? = actions.first else { return XCTFail("expected a yield: \(actions)") }
        XCTAssertEqual(name, "1.json")
        XCTAssertEqual(folder, .incoming)
        XCTAssertEqual(started(core.tick(now: 1000, durableLines: 10)).map(\.name), ["u.json"])
    }

    func testALateEarlierNameIsSentAndItsLineSaysSo() throws {
        var core = try makeCore()
        _ = core.intakeDelivered([try laneJob("2", core: core)], now: 1000)
        _ = ok(&core, started(core.tick(now: 1000, durableLines: 10))[0].token)
        _ = core.intakeDelivered([try laneJob("1", core: core)], now: 1001)
        let late = started(core.tick(now: 1001, durableLines: 10))
        XCTAssertEqual(late.map(\.name), ["1.json"], "never dropped")
        guard case .file(let filing)? = ok(&core, late[0].token).first else { return XCTFail("expected a filing") }
        XCTAssertEqual(filing.folder, .delivered)
        XCTAssertEqual(filing.record.message, OutcomeRecords.lateNote)
    }

    func testLaneJobsWaitingCountInTheClaimWindowAndKeepADrainOpen() throws {
        var core = try makeCore()
        let before = core.intakeCredit(now: 1000)
        _ = core.intakeDelivered([try laneJob("1", core: core), try laneJob("2", core: core)], now: 1000)
        XCTAssertEqual(core.intakeCredit(now: 1000), before - 2)
        let token = started(core.tick(now: 1000, durableLines: 10))[0].token
        let facts = DispatchCore.ShellFacts(intakeIdle: true, auditSettled: true, answeredPasses: 5)
        _ = ok(&core, token)
        XCTAssertEqual(core.endDecision(now: 1001, facts: facts), .keepGoing, "2 is still to go")
    }

    func testARetryingHeadThatLeftDeferredByOtherHandsFreesItsLane() throws {
        var core = try makeCore()
        _ = core.intakeDelivered([try laneJob("1", core: core), try laneJob("2", core: core)], now: 1000)
        let token = started(core.tick(now: 1000, durableLines: 10))[0].token
        _ = ok(&core, token, status: 503)
        core.deferralFiled(as: "1~1.json", due: 1005, lane: LaneKey(clientId: Fixture.clientId, orderingKey: "p1"))
        XCTAssertTrue(started(core.tick(now: 1001, durableLines: 10)).isEmpty)
        XCTAssertTrue(core.retryGone("other.json", now: 1006).isEmpty, "not a lane's head")
        _ = core.retryGone("1~1.json", now: 1006)
        _ = core.intakeDelivered([try laneJob("2", core: core)], now: 1006)
        XCTAssertEqual(started(core.tick(now: 1006, durableLines: 10)).map(\.name), ["2.json"], "the head is known by its name in deferred/")
    }

    func testAJobOfALaneUnblockedOnDiskIsAdmittedInsteadOfHeld() throws {
        var core = try makeCore()
        core.blockedLanesFound([(LaneKey(clientId: Fixture.clientId, orderingKey: "p1"), "1.json")])
        let actions = core.intakeDelivered([try laneJob("2", core: core)], now: 1000)
        guard case .holdInBlockedLane(_, let claimed)? = actions.first else { return XCTFail("expected a hold: \(actions)") }
        _ = core.laneUnblockedOnDisk(claimed, now: 1000)
        XCTAssertEqual(started(core.tick(now: 1000, durableLines: 10)).map(\.name), ["2.json"])
    }
}
