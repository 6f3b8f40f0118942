import XCTest
@testable import OutboundCore

/// Which unread file a lane job waits for: the byte-wise earliest, when it sorts before the
/// job's name.
final class UnreadNamesTests: XCTestCase {
    func testNothingUnreadHoldsNothing() {
        XCTAssertNil(UnreadNames().blocking(laneJobNamed: "e-1.json"))
    }

    func testALaneJobWaitsForTheEarliestUnreadNameBeforeIt() {
        var unread = UnreadNames()
        unread.insert("e-3.json")
        unread.insert("e-2.json")
        unread.insert("e-5.json")
        XCTAssertEqual(unread.earliest, "e-2.json")
        XCTAssertEqual(unread.blocking(laneJobNamed: "e-4.json"), "e-2.json")
        XCTAssertNil(unread.blocking(laneJobNamed: "e-2.json"), "a name never waits for itself")
        XCTAssertNil(unread.blocking(laneJobNamed: "e-1.json"), "an earlier name does not wait")
    }

    func testReadingTheEarliestMovesTheHoldToTheNext() {
        var unread = UnreadNames()
        unread.insert("e-2.json")
        unread.insert("e-3.json")
        unread.remove("e-2.json")
        XCTAssertEqual(unread.blocking(laneJobNamed: "e-4.json"), "e-3.json")
        XCTAssertNil(unread.blocking(laneJobNamed: "e-3.json"))
        unread.remove("e-3.json")
        unread.remove("e-9.json")
        XCTAssertTrue(unread.isEmpty)
        XCTAssertNil(unread.blocking(laneJobNamed: "e-4.json"))
    }

    func testNamesCompareByteWise() {
        var unread = UnreadNames()
        // "é" composed (C3 A9) sorts after "z" byte-wise; decomposed ("e" + U+0301) before it.
        unread.insert("\u{E9}.json")
        unread.insert("e\u{301}.json")
        XCTAssertEqual(unread.earliest.map { Array($0.utf8) }, Array("e\u{301}.json".utf8))
        XCTAssertNotNil(unread.blocking(laneJobNamed: "z.json"))
        XCTAssertNil(unread.blocking(laneJobNamed: "a.json"))
        // Only canonically equivalent, so two files: reading one leaves the other unread.
        unread.remove("e\u{301}.json")
        XCTAssertEqual(unread.earliest.map { Array($0.utf8) }, Array("\u{E9}.json".utf8))
        XCTAssertFalse(unread.isEmpty)
    }
}
