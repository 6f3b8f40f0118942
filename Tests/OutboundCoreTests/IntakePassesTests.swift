import XCTest
@testable import OutboundCore

/// When the intake may say "incoming/ held nothing": the fact a drain's end rests on.
final class IntakePassesTests: XCTestCase {
    func testAPassThatClaimedSomethingIsFollowedByAnother() {
        var passes = IntakePasses()
        passes.requestedPassStarts()
        passes.claiming(3)
        XCTAssertEqual(passes.listingEnded(settled: true), .startAnotherPass, "files may have arrived behind the listing")
        XCTAssertFalse(passes.sawEmptyPass)
        XCTAssertEqual(passes.answeredRequests, 0, "the request is not answered by a pass that found files")
        XCTAssertEqual(passes.listingEnded(settled: true), .rest(wakeLoop: true))
        XCTAssertTrue(passes.sawEmptyPass)
        XCTAssertEqual(passes.answeredRequests, 1)
    }

    func testARequestedEmptyPassIsAnsweredAndWakesTheLoop() {
        var passes = IntakePasses()
        passes.requestedPassStarts()
        XCTAssertEqual(passes.listingEnded(settled: true), .rest(wakeLoop: true))
        XCTAssertEqual(passes.answeredRequests, 1)
        XCTAssertEqual(passes.listingEnded(settled: true), .rest(wakeLoop: false), "nothing new to tell the loop")
        XCTAssertEqual(passes.answeredRequests, 1)
    }

    func testFilesWaitingForTheirGraceKeepIncomingFromCountingAsEmpty() {
        var passes = IntakePasses()
        XCTAssertEqual(passes.listingEnded(settled: false), .rest(wakeLoop: false))
        XCTAssertFalse(passes.sawEmptyPass, "a young file still being written will be looked at again")
        XCTAssertEqual(passes.listingEnded(settled: true), .rest(wakeLoop: true), "settled for the first time: the loop may be waiting")
        XCTAssertTrue(passes.sawEmptyPass)
    }

    func testABatchStartingClearsTheEmptyVerdict() {
        var passes = IntakePasses()
        _ = passes.listingEnded(settled: true)
        XCTAssertTrue(passes.sawEmptyPass)
        passes.claiming(0)
        XCTAssertFalse(passes.sawEmptyPass)
    }
}
