@testable import OutboundCore
import XCTest

/// The pure parts of the operator commands: member scanning, URL rewriting, durations and
/// the age histogram.
final class OperatorPartsTests: XCTestCase {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    func testMemberScannerFindsTopLevelMembersAndSkipsNestedOnes() throws {
        let text = bytes(#" { "headers": {"id": "inner", "x": [1, {"clientId": "no"}]}, "id" : "a\"b", "clientId":"c1", "n": -1.5e3 } "#)
        let members = try XCTUnwrap(JSONMemberScanner.members(of: text))
        XCTAssertEqual(members.map(\.key), ["headers", "id", "clientId", "n"])
        XCTAssertEqual(JSONMemberScanner.string("id", in: members, of: text), "a\"b")
        XCTAssertEqual(JSONMemberScanner.string("clientId", in: members, of: text), "c1")
        XCTAssertNil(JSONMemberScanner.string("n", in: members, of: text))
    }

    func testMemberScannerRejectsWhatIsNotOneObject() {
        for text in ["", "[]", "{\"a\":1", "{\"a\":1} x", "{\"a\" 1}", "{\"a\":\"unterminated}"] {
            XCTAssertNil(JSONMemberScanner.members(of: bytes(text)), text)
        }
        XCTAssertEqual(JSONMemberScanner.members(of: bytes("{}"))?.count, 0)
    }

    func testRewriteChangesOnlyTheURLValue() throws {
        let text = "{\"body\":\"http://old/x\",  \"url\" : \"http://old/hooks/a?q=1\" ,\"id\":\"j\"}\n"
        let rewritten = try XCTUnwrap(URLRewrite.apply([URLRewrite(from: "http://old", to: "http://127.0.0.1:9")], to: bytes(text)))
        XCTAssertEqual(String(decoding: rewritten, as: UTF8.self),
                       "{\"body\":\"http://old/x\",  \"url\" : \"http://127.0.0.1:9/hooks/a?q=1\" ,\"id\":\"j\"}\n")
        XCTAssertNil(URLRewrite.apply([URLRewrite(from: "https://other", to: "x")], to: bytes(text)), "no rule applies")
    }

    func testRewriteArgumentSplitsAtTheFirstEquals() {
        XCTAssertEqual(URLRewrite(argument: "http://a=http://b/?x=1"), URLRewrite(from: "http://a", to: "http://b/?x=1"))
        XCTAssertNil(URLRewrite(argument: "=http://b"))
        XCTAssertNil(URLRewrite(argument: "http://a"))
    }

    func testDurations() throws {
        XCTAssertEqual(try OperatorDuration.seconds("90d"), 90 * 86400)
        XCTAssertEqual(try OperatorDuration.seconds("12h"), 12 * 3600)
        XCTAssertEqual(try OperatorDuration.seconds("1h30m"), 5400)
        XCTAssertEqual(try OperatorDuration.seconds("45s"), 45)
        XCTAssertEqual(try OperatorDuration.seconds("2w"), 2 * 604_800)
        for bad in ["", "12", "d", "1x", "1.5h", "-1d", "1d2"] {
            XCTAssertThrowsError(try OperatorDuration.seconds(bad), bad)
        }
    }

    func testAgeHistogramBucketsAreQshapes() {
        var histogram = AgeHistogram()
        for minutes in [0.0, 0.99, 1, 4.99, 5, 639, 640, 1279, 1280, 10_000] {
            histogram.add(clientId: "c", ageSeconds: minutes * 60)
        }
        histogram.add(clientId: nil, ageSeconds: 0)
        XCTAssertEqual(AgeHistogram.labels, ["1m", "5m", "10m", "20m", "40m", "80m", "160m", "320m", "640m", "1280m", "1280m+"])
        XCTAssertEqual(histogram.rows["c"], [2, 2, 1, 0, 0, 0, 0, 0, 1, 2, 2])
        XCTAssertEqual(histogram.total, [3, 2, 1, 0, 0, 0, 0, 0, 1, 2, 2])
        XCTAssertEqual(histogram.clientsByCount, ["c", ""])
    }
}
