import XCTest
@testable import OutboundCore

/// The earliest of a set of names, compared by bytes: the unread file or parked job a lane
/// job waits for, when it sorts before the job's name.
final class NameSetTests: XCTestCase {
    func testNothingUnreadHoldsNothing() {
        XCTAssertNil(NameSet().earliest(before: "e-1.json"))
    }

    func testALaneJobWaitsForTheEarliestUnreadNameBeforeIt() {
        var unread = NameSet()
        unread.insert("e-3.json")
        unread.insert("e-2.json")
        unread.insert("e-5.json")
        XCTAssertEqual(unread.earliest, "e-2.json")
        XCTAssertEqual(unread.earliest(before: "e-4.json"), "e-2.json")
        XCTAssertNil(unread.earliest(before: "e-2.json"), "a name never waits for itself")
        XCTAssertNil(unread.earliest(before: "e-1.json"), "an earlier name does not wait")
    }

    func testReadingTheEarliestMovesTheHoldToTheNext() {
        var unread = NameSet()
        unread.insert("e-2.json")
        unread.insert("e-3.json")
        unread.remove("e-2.json")
        XCTAssertEqual(unread.earliest(before: "e-4.json"), "e-3.json")
        XCTAssertNil(unread.earliest(before: "e-3.json"))
        unread.remove("e-3.json")
        unread.remove("e-9.json")
        XCTAssertTrue(unread.isEmpty)
        XCTAssertNil(unread.earliest(before: "e-4.json"))
    }

    func testNamesCompareByteWise() {
        var unread = NameSet()
        // "é" composed (C3 A9) sorts after "z" byte-wise; decomposed ("e" + U+0301) before it.
        unread.insert("\u{E9}.json")
        unread.insert("e\u{301}.json")
        XCTAssertEqual(unread.earliest.map { Array($0.utf8) }, Array("e\u{301}.json".utf8))
        XCTAssertNotNil(unread.earliest(before: "z.json"))
        XCTAssertNil(unread.earliest(before: "a.json"))
        // Only canonically equivalent, so two files: reading one leaves the other unread.
        unread.remove("e\u{301}.json")
        XCTAssertEqual(unread.earliest.map { Array($0.utf8) }, Array("\u{E9}.json".utf8))
        XCTAssertFalse(unread.isEmpty)
    }
}
