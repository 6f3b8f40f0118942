import Foundation
import XCTest
@testable import OutboundCore

/// RFC 3339 timestamps: the audit log's `ts` (UTC, milliseconds, `Z`, section 8) and a job's
/// `notAfter` (section 3).
final class TimestampTests: XCTestCase {
    func testFormatIsUTCWithMillisecondsAndZ() {
        XCTAssertEqual(Timestamp.format(0), "1970-01-01T00:00:00.000Z")
        XCTAssertEqual(Timestamp.format(784_111_777.5), "1994-11-06T08:49:37.500Z")
        XCTAssertEqual(Timestamp.format(1_000_000_000.25), "2001-09-09T01:46:40.250Z")
        XCTAssertEqual(Timestamp.format(1_795_953_600), "2026-11-29T12:00:00.000Z")
        XCTAssertEqual(Timestamp.format(951_782_400), "2000-02-29T00:00:00.000Z", "leap day")
    }

    func testFormatTruncatesToTheMillisecondWithoutRollingOver() {
        XCTAssertEqual(Timestamp.format(59.9999), "1970-01-01T00:00:59.999Z")
        XCTAssertEqual(Timestamp.format(1_795_953_599.9996), "2026-11-29T11:59:59.999Z")
    }

    func testFormatAlwaysHasTheSameShape() throws {
        let shape = try NSRegularExpression(pattern: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"#)
        for seconds in [0, 1, 86399.001, 1_700_000_000.123, 4_102_444_800] as [Double] {
            let text = Timestamp.format(seconds)
            XCTAssertEqual(shape.numberOfMatches(in: text, range: NSRange(text.startIndex..., in: text)), 1, text)
        }
    }

    func testFormatAgreesWithGmtimeAcrossCenturies() {
        // The civil-date arithmetic against the C library, including leap years, century
        // rules and instants before 1970.
        var generator = SystemRandomNumberGenerator()
        var instants: [Int] = [-1, -86_400, -86_401, 951_868_799, 951_868_800, 4_107_542_400, 253_402_300_799]
        for _ in 0..<5_000 { instants.append(Int.random(in: -2_208_988_800...253_402_300_799, using: &generator)) }
        for instant in instants {
            var seconds = time_t(instant)
            var parts = tm()
            gmtime_r(&seconds, &parts)
            let expected = String(format: "%04d-%02d-%02dT%02d:%02d:%02d.000Z", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                                  Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
            XCTAssertEqual(Timestamp.format(Double(instant)), expected, "instant \(instant)")
        }
    }

    func testParseReadsUTC() {
        XCTAssertEqual(Timestamp.parse("1994-11-06T08:49:37Z"), 784_111_777)
        XCTAssertEqual(Timestamp.parse("2026-11-29T12:00:00Z"), 1_795_953_600)
        XCTAssertEqual(Timestamp.parse("1970-01-01T00:00:00.000Z"), 0)
    }

    func testParseReadsFractions() throws {
        XCTAssertEqual(try XCTUnwrap(Timestamp.parse("1994-11-06T08:49:37.5Z")), 784_111_777.5, accuracy: 1e-6)
        XCTAssertEqual(try XCTUnwrap(Timestamp.parse("1994-11-06T08:49:37.123456789Z")), 784_111_777.123456789, accuracy: 1e-6)
    }

    func testParseAppliesOffsets() {
        XCTAssertEqual(Timestamp.parse("2026-11-29T13:00:00+01:00"), 1_795_953_600)
        XCTAssertEqual(Timestamp.parse("2026-11-29T06:30:00-05:30"), 1_795_953_600)
        XCTAssertEqual(Timestamp.parse("2026-11-29T12:00:00+00:00"), 1_795_953_600)
        XCTAssertEqual(Timestamp.parse("2026-11-29T12:00:00-00:00"), 1_795_953_600)
        XCTAssertEqual(Timestamp.parse("2026-11-30T00:30:00+12:30"), 1_795_953_600, "crosses midnight")
    }

    func testParseAcceptsLowercaseSeparators() {
        XCTAssertEqual(Timestamp.parse("2026-11-29t12:00:00z"), 1_795_953_600)
    }

    func testFormattedTimestampsParseBack() throws {
        for seconds in [0, 784_111_777.5, 1_000_000_000.25, 1_795_953_600, 951_782_400.875] as [Double] {
            XCTAssertEqual(Timestamp.parse(Timestamp.format(seconds)), seconds, Timestamp.format(seconds))
        }
    }

    func testMillisecondTimestampsSurviveARoundTrip() throws {
        // A `ts` or a saved nextAttemptAt read back and written again must not drift.
        for text in ["2026-11-29T03:39:44.123Z", "2026-11-29T03:39:44.001Z", "2026-11-29T03:39:44.999Z",
                     "2001-09-09T01:46:40.007Z", "2026-01-01T00:00:00.010Z"] {
            let seconds = try XCTUnwrap(Timestamp.parse(text), text)
            XCTAssertEqual(Timestamp.format(seconds), text)
        }
    }

    func testImpossibleDatesAreRejected() {
        for text in ["2026-02-30T00:00:00Z", "2025-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-13-01T00:00:00Z",
                     "2026-00-10T00:00:00Z", "2026-11-00T00:00:00Z", "2026-11-29T24:00:00Z", "2026-11-29T12:60:00Z",
                     "2026-11-29T12:00:61Z"] {
            XCTAssertNil(Timestamp.parse(text), text)
        }
        XCTAssertNotNil(Timestamp.parse("2024-02-29T00:00:00Z"), "2024 is a leap year")
    }

    func testMissingZoneIsRejected() {
        XCTAssertNil(Timestamp.parse("2026-11-29T12:00:00"))
        XCTAssertNil(Timestamp.parse("2026-11-29T12:00:00.123"))
    }

    func testMalformedTextIsRejected() {
        for text in ["", "2026-11-29", "2026-11-29T12:00Z", "26-11-29T12:00:00Z", "2026/11/29T12:00:00Z", "2026-11-29T12:00:00+0100",
                     "2026-11-29T12:00:00+01", "2026-11-29T12:00:00.Z", "2026-11-29T12:00:00Z ", " 2026-11-29T12:00:00Z",
                     "2026-11-29T12:00:00ZZ", "2026-11-29T12:00:00+25:00", "2026-11-29T12:00:00 UTC", "+2026-11-29T12:00:00Z"] {
            XCTAssertNil(Timestamp.parse(text), text)
        }
    }
}
