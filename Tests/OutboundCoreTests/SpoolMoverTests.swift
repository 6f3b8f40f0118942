import XCTest
@testable import OutboundCore

/// Contract section 2: a move never overwrites. A job that arrives under a name already taken
/// in its folder gets a `~N` name, however many namesakes came before it.
final class SpoolMoverTests: XCTestCase {
    func testTheFirstFreeSuffixAfterAnUnbrokenRunOfTakenOnes() throws {
        for taken in [0, 1, 2, 3, 7, 8, 9, 1000, 65_535, 65_536] {
            var looks = 0
            let found = try ClashSuffix.firstFree { suffix in
                looks += 1
                return suffix > taken
            }
            XCTAssertEqual(found, taken + 1, "\(taken) taken")
            XCTAssertLessThanOrEqual(looks, 2 * (Int.bitWidth - (taken + 1).leadingZeroBitCount) + 1, "\(taken) taken: \(looks) looks")
        }
    }

    func testAFreeSuffixEvenWhenTheTakenOnesHaveGaps() throws {
        let taken: Set<Int> = Set(1...10).union(12...40).union([64, 65])
        let found = try XCTUnwrap(ClashSuffix.firstFree { !taken.contains($0) })
        XCTAssertFalse(taken.contains(found), "\(found) is taken")
    }

    func testNoSuffixWhenEveryOneIsTaken() throws {
        XCTAssertNil(try ClashSuffix.firstFree { _ in false })
    }

    /// A name upstream reuses for every job: 100,000 namesakes before it cost a few dozen looks,
    /// where trying ~1, ~2, ~3 in turn cost one per namesake (and gave up at 10,000).
    func testANameReusedAHundredThousandTimesStillGetsAFreeName() throws {
        let folder = try Fixture.temporaryFolder("mover")
        defer { try? FileManager.default.removeItem(at: folder) }
        var looks = 0
        let name = try SpoolMover.freeName(for: "ADT_A08.json", in: folder.path) { candidate in
            looks += 1
            guard candidate != "ADT_A08.json" else { return false }
            let suffix = Int(candidate.dropFirst("ADT_A08~".count).dropLast(".json".count))!
            return suffix > 100_000
        }
        XCTAssertEqual(name, "ADT_A08~100001.json")
        XCTAssertLessThanOrEqual(looks, 40)
    }

    func testAFreeNameIsKeptAndTheSidecarCountsAsTaken() throws {
        let folder = try Fixture.temporaryFolder("mover")
        defer { try? FileManager.default.removeItem(at: folder) }
        XCTAssertEqual(try SpoolMover.freeName(for: "order.json", in: folder.path), "order.json")
        FileManager.default.createFile(atPath: folder.appendingPathComponent("order.json").path, contents: Data())
        FileManager.default.createFile(atPath: folder.appendingPathComponent("order~1.json.reason").path, contents: Data())
        XCTAssertEqual(try SpoolMover.freeName(for: "order.json", in: folder.path), "order~2.json")
    }
}
