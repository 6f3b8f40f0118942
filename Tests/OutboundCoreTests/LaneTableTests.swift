import XCTest
@testable import OutboundCore

/// The lane rules (contract 14) on their own: which job of a lane may go, and when.
final class LaneTableTests: XCTestCase {
    private let lane = LaneKey(clientId: "c", orderingKey: "patient-1")
    private let other = LaneKey(clientId: "c", orderingKey: "patient-2")

    private func claimed(_ name: String, key: String = "patient-1") throws -> ClaimedJob {
        ClaimedJob(name: name, job: try Fixture.job(url: "https://acme.example/a", clientId: "c", orderingKey: key),
                   inode: 1, bytes: 100, origin: .incoming, attempts: 0, firstClaimedAt: 0, hasSavedState: false)
    }

    private func goes(_ admission: LaneTable.Admission) -> String? {
        if case .go(let job) = admission { return job.name } else { return nil }
    }

    func testOneJobOfALaneGoesAtATimeInByteWiseNameOrder() throws {
        var table = LaneTable(policy: .block)
        XCTAssertEqual(goes(table.admit(try claimed("002.json"), in: lane, now: 0)), "002.json")
        XCTAssertNil(goes(table.admit(try claimed("010.json"), in: lane, now: 0)))
        XCTAssertNil(goes(table.admit(try claimed("003.json"), in: lane, now: 0)))
        // Byte-wise: "Z" (0x5A) sorts before "a" (0x61), as in `LC_ALL=C ls`.
        XCTAssertNil(goes(table.admit(try claimed("00a.json"), in: lane, now: 0)))
        XCTAssertNil(goes(table.admit(try claimed("00Z.json"), in: lane, now: 0)))
        XCTAssertEqual(table.waitingCount, 4)
        var order: [String] = []
        while let next = table.headDelivered(in: lane) { order.append(next.name) }
        XCTAssertEqual(order, ["003.json", "00Z.json", "00a.json", "010.json"])
        XCTAssertEqual(table.waitingCount, 0)
        XCTAssertTrue(table.lanes.isEmpty, "an idle, empty lane is forgotten")
    }

    func testLanesAreIndependent() throws {
        var table = LaneTable(policy: .block)
        XCTAssertNotNil(goes(table.admit(try claimed("1.json"), in: lane, now: 0)))
        XCTAssertEqual(goes(table.admit(try claimed("2.json", key: "patient-2"), in: other, now: 0)), "2.json")
        XCTAssertNotEqual(LaneKey(clientId: "a", orderingKey: "bc").hash, LaneKey(clientId: "ab", orderingKey: "c").hash)
    }

    func testARetryingHeadHoldsTheLaneUntilItComesBack() throws {
        var table = LaneTable(policy: .block)
        _ = table.admit(try claimed("1.json"), in: lane, now: 0)
        _ = table.admit(try claimed("2.json"), in: lane, now: 0)
        XCTAssertEqual(table.headDeferred(as: "1.json", due: 1005, in: lane).map(\.name), ["2.json"], "what waited is parked")
        XCTAssertEqual(table.waitingCount, 0)
        guard case .parks(let until) = table.admit(try claimed("2.json"), in: lane, now: 0) else { return XCTFail("the lane waits for its retry") }
        XCTAssertEqual(until, 1005)
        XCTAssertEqual(goes(table.admit(try claimed("1.json"), in: lane, now: 0)), "1.json", "the retry itself goes")
        XCTAssertNil(goes(table.admit(try claimed("2.json"), in: lane, now: 0)), "back from its parking, 2 waits behind 1")
        XCTAssertEqual(table.headDelivered(in: lane)?.name, "2.json")
    }

    /// The head's retry went and was delivered while the job that waited behind it is still
    /// parked in incoming/: a later name arriving meanwhile must not go ahead of it.
    func testAJobArrivingWhileAnEarlierOneIsParkedWaitsForIt() throws {
        var table = LaneTable(policy: .block)
        _ = table.admit(try claimed("1.json"), in: lane, now: 0)
        _ = table.admit(try claimed("2.json"), in: lane, now: 0)
        XCTAssertEqual(table.headDeferred(as: "1.json", due: 10, in: lane).map(\.name), ["2.json"])
        XCTAssertEqual(goes(table.admit(try claimed("1.json"), in: lane, now: 10)), "1.json", "the retry goes")
        guard case .parks(let until) = table.admit(try claimed("3.json"), in: lane, now: 10.1) else {
            return XCTFail("3 went ahead of 2, which is parked")
        }
        XCTAssertEqual(until, 10)
        XCTAssertNil(table.headDelivered(in: lane), "nothing waited behind 1")
        XCTAssertFalse(table.lanes.isEmpty, "the idle lane remembers its parked jobs")
        XCTAssertEqual(goes(table.admit(try claimed("2.json"), in: lane, now: 10.3)), "2.json")
        XCTAssertNil(goes(table.admit(try claimed("3.json"), in: lane, now: 10.3)), "back, 3 waits behind 2")
        XCTAssertEqual(table.headDelivered(in: lane)?.name, "3.json")
        XCTAssertNil(table.headDelivered(in: lane))
        XCTAssertTrue(table.lanes.isEmpty, "nothing parked, nothing waiting: forgotten")
    }

    /// A job parked back into a folder that held a namesake comes back under its `~N` name:
    /// the lane knows it by that name, so it neither waits behind itself nor is overtaken.
    func testAParkedJobRenamedOnItsWayOutIsKnownByItsNewName() throws {
        var table = LaneTable(policy: .block)
        _ = table.admit(try claimed("1.json"), in: lane, now: 0)
        _ = table.admit(try claimed("2.json"), in: lane, now: 0)
        _ = table.headDeferred(as: "1.json", due: 10, in: lane)
        table.parkedRenamed("2.json", to: "2~1.json")
        _ = table.admit(try claimed("1.json"), in: lane, now: 10)
        XCTAssertNil(table.headDelivered(in: lane))
        guard case .parks = table.admit(try claimed("3.json"), in: lane, now: 10.1) else { return XCTFail("3 waits for 2~1") }
        XCTAssertEqual(goes(table.admit(try claimed("2~1.json"), in: lane, now: 10.3)), "2~1.json", "back, it goes at once")
    }

    /// A parked job that never comes back (an operator moved it) holds its lane only until a
    /// grace period after it was due.
    func testAParkedJobThatNeverComesBackIsForgotten() throws {
        var table = LaneTable(policy: .block)
        _ = table.admit(try claimed("1.json"), in: lane, now: 0)
        _ = table.admit(try claimed("2.json"), in: lane, now: 0)
        _ = table.headDeferred(as: "1.json", due: 10, in: lane)
        _ = table.admit(try claimed("1.json"), in: lane, now: 10)
        XCTAssertNil(table.headDelivered(in: lane))
        guard case .parks = table.admit(try claimed("3.json"), in: lane, now: 10 + ParkedNames.grace - 1) else {
            return XCTFail("within the grace period 3 waits for 2")
        }
        XCTAssertEqual(goes(table.admit(try claimed("3.json"), in: lane, now: 10 + ParkedNames.grace + 1)), "3.json")
    }

    func testARetryFoundInDeferredHoldsItsLaneAfterATakeover() throws {
        var table = LaneTable(policy: .block)
        table.retryFound("3.json", due: 1004, in: lane)
        table.retryFound("1.json", due: 1005, in: lane)
        table.retryFound("2.json", due: 1003, in: lane)
        XCTAssertEqual(table.head(of: lane), .retrying("1.json"), "the earliest name found is the head")
        XCTAssertNil(goes(table.admit(try claimed("2.json"), in: lane, now: 0)))
        XCTAssertEqual(goes(table.admit(try claimed("1.json"), in: lane, now: 0)), "1.json")
    }

    func testAFailedHeadBlocksTheLaneAndHoldsItsWaitingJobs() throws {
        var table = LaneTable(policy: .block)
        _ = table.admit(try claimed("1.json"), in: lane, now: 0)
        _ = table.admit(try claimed("2.json"), in: lane, now: 0)
        _ = table.admit(try claimed("3.json"), in: lane, now: 0)
        let (held, next) = table.headFailed("1.json", in: lane)
        XCTAssertEqual(held.map(\.name), ["2.json", "3.json"])
        XCTAssertNil(next)
        guard case .blocked(let byJob) = table.admit(try claimed("4.json"), in: lane, now: 0) else { return XCTFail("expected blocked") }
        XCTAssertEqual(byJob, "1.json")
        XCTAssertEqual(table.blocked.map(\.byJob), ["1.json"])
        guard case .resumes(let job) = table.admit(try claimed("1.json"), in: lane, now: 0) else { return XCTFail("the requeued job at fault resumes the lane") }
        XCTAssertEqual(job.name, "1.json")
        XCTAssertNil(goes(table.admit(try claimed("2.json"), in: lane, now: 0)), "released jobs wait behind it")
    }

    func testAJobAtFaultFiledUnderAnotherNameIsTheOneThatResumesItsLane() throws {
        var table = LaneTable(policy: .block)
        _ = table.admit(try claimed("1.json"), in: lane, now: 0)
        _ = table.headFailed("1.json", in: lane)
        table.blockerFiled(as: "1~1.json", in: lane)
        guard case .blocked(let byJob) = table.admit(try claimed("4.json"), in: lane, now: 0) else { return XCTFail("expected blocked") }
        XCTAssertEqual(byJob, "1~1.json", "later held jobs name the file the job at fault got")
        XCTAssertEqual(table.blocked.map(\.byJob), ["1~1.json"])
        guard case .blocked = table.admit(try claimed("1.json"), in: lane, now: 0) else { return XCTFail("its namesake does not resume the lane") }
        guard case .resumes(let job) = table.admit(try claimed("1~1.json"), in: lane, now: 0) else { return XCTFail("the file it got resumes the lane") }
        XCTAssertEqual(job.name, "1~1.json")
        table.blockerFiled(as: "1~2.json", in: lane)
        XCTAssertTrue(table.blocked.isEmpty, "a lane that is not blocked is left as it is")
    }

    func testSkipLetsTheLaneGoOnAfterAFailure() throws {
        var table = LaneTable(policy: .skip)
        _ = table.admit(try claimed("1.json"), in: lane, now: 0)
        _ = table.admit(try claimed("2.json"), in: lane, now: 0)
        let (held, next) = table.headFailed("1.json", in: lane)
        XCTAssertTrue(held.isEmpty)
        XCTAssertEqual(next?.name, "2.json")
    }

    func testAnUnblockedLaneAcceptsJobsAgain() throws {
        var table = LaneTable(policy: .block)
        table.blockedFound(lane, byJob: "1.json")
        guard case .blocked = table.admit(try claimed("2.json"), in: lane, now: 0) else { return XCTFail("expected blocked") }
        table.unblock(lane)
        XCTAssertEqual(goes(table.admit(try claimed("2.json"), in: lane, now: 0)), "2.json")
    }

    func testAJobSentAfterALaterNameIsLate() {
        var table = LaneTable(policy: .block)
        XCTAssertFalse(table.sending("2.json", in: lane))
        XCTAssertFalse(table.sending("3.json", in: lane))
        XCTAssertTrue(table.sending("1.json", in: lane))
        XCTAssertFalse(table.sending("1.json", in: other))
    }
}
