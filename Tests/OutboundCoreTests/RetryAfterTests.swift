import XCTest
@testable import OutboundCore

/// Contract section 7: "A retry waits Retry-After (seconds or HTTP-date)" — RFC 9110 §10.2.3.
final class RetryAfterTests: XCTestCase {
    /// Sun, 06 Nov 1994 08:49:37 GMT, the RFC's own example.
    private let rfcExample = 784_111_777.0

    func testDelaySecondsAreMilliseconds() {
        XCTAssertEqual(RetryAfter.delayMs("120", now: 0), 120_000)
        XCTAssertEqual(RetryAfter.delayMs("0", now: 0), 0)
        XCTAssertEqual(RetryAfter.delayMs(" 5\t", now: 0), 5000)
    }

    func testHugeDelaySecondsDoNotOverflow() throws {
        let delay = try XCTUnwrap(RetryAfter.delayMs("99999999999999999999999999", now: 0))
        XCTAssertGreaterThan(delay, 86_400_000)
    }

    func testIMFFixdateIsParsed() {
        XCTAssertEqual(RetryAfter.parseHTTPDate("Sun, 06 Nov 1994 08:49:37 GMT"), rfcExample)
        XCTAssertEqual(RetryAfter.delayMs("Sun, 06 Nov 1994 08:49:37 GMT", now: rfcExample - 60), 60_000)
    }

    func testRFC850DateIsParsed() {
        XCTAssertEqual(RetryAfter.parseHTTPDate("Sunday, 06-Nov-94 08:49:37 GMT"), rfcExample)
        XCTAssertEqual(RetryAfter.delayMs("Sunday, 06-Nov-94 08:49:37 GMT", now: rfcExample - 2), 2000)
    }

    func testAsctimeDateIsParsed() {
        XCTAssertEqual(RetryAfter.parseHTTPDate("Sun Nov  6 08:49:37 1994"), rfcExample)
        XCTAssertEqual(RetryAfter.delayMs("Sun Nov  6 08:49:37 1994", now: rfcExample - 1), 1000)
    }

    func testFractionalNowRoundsTheDelayUp() {
        XCTAssertEqual(RetryAfter.delayMs("Sun, 06 Nov 1994 08:49:37 GMT", now: rfcExample - 0.0004), 1)
    }

    func testGarbageIsNil() {
        for value in ["", "soon", "-5", "1.5", "5s", "+5", "0x10", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 31 Feb 1994 08:49:37 GMT",
                      "Sun, 06 Nov 1994 25:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT", "1994-11-06T08:49:37Z", "Sun, 06 Nov 1994"] {
            XCTAssertNil(RetryAfter.delayMs(value, now: rfcExample), "'\(value)'")
        }
    }

    func testDateInThePastIsZero() {
        XCTAssertEqual(RetryAfter.delayMs("Sun, 06 Nov 1994 08:49:37 GMT", now: rfcExample + 3600), 0)
        XCTAssertEqual(RetryAfter.delayMs("Sun Nov  6 08:49:37 1994", now: 1_000_000_000), 0)
    }
}
