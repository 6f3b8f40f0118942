import Foundation
import XCTest
@testable import OutboundCore

/// `bodyBase64` is decoded by Outbound's own strict decoder (the binary does not load
/// Foundation). Against Foundation's `Data(base64Encoded:)`, used before: every proper encoding
/// decodes the same, and nothing Foundation refused is accepted. Foundation was the more
/// lenient, taking `AA=A` for two zero bytes and `====` for one; such text is refused now.
final class Base64Tests: XCTestCase {
    private func foundation(_ text: String) -> [UInt8]? {
        Data(base64Encoded: text).map { [UInt8]($0) }
    }

    func testKnownValues() {
        XCTAssertEqual(Base64.decode(""), [])
        XCTAssertEqual(Base64.decode("AAEC/w=="), [0x00, 0x01, 0x02, 0xFF])
        XCTAssertEqual(Base64.decode("eA=="), Array("x".utf8))
        XCTAssertEqual(Base64.decode("eHk="), Array("xy".utf8))
        XCTAssertEqual(Base64.decode("eHl6"), Array("xyz".utf8))
        XCTAssertEqual(Base64.decode("+/+/"), [0xFB, 0xFF, 0xBF])
    }

    func testRejectsWhatIsNotStrictBase64() {
        for bad in ["A", "AA", "AAA", "AAE", "A===", "====", "=AAA", "AA=A", "AA==AA==", "AAAA=", "AAAA====", "Zm9v=",
                    "Zm9vYg===", " AAAA", "AAAA\n", "AA AA", "-_-_", "AA==\u{0}", "ÀAAA", "AAA\u{FF}", "eA=", "e==="] {
            XCTAssertNil(Base64.decode(bad), bad.debugDescription)
        }
    }

    func testEveryProperEncodingDecodesAsFoundationDoes() {
        var generator = SystemRandomNumberGenerator()
        for length in 0..<300 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let encoded = Data(bytes).base64EncodedString()
            XCTAssertEqual(Base64.decode(encoded), bytes, encoded)
            XCTAssertEqual(foundation(encoded), bytes, encoded)
        }
    }

    func testNothingFoundationRefusedIsAccepted() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=".utf8)
        let noise = Array(" \n-_.*é\u{0}".utf8)
        var texts = ["", "AB==", "AAB=", "AP==", "A/==", "//8=", "AAE", "AA=A", "A===", "====", "====AAAA", "AAAA====",
                     "AA==AA==", " AAAA", "AAAA ", "AA\nAA", "-_-_", "AAAA\r\n", "Zm9vYmE", "Zm9vY", "Zm9v=", "Zm9vYg=", "+/+"]
        for round in 0..<4000 {
            if round % 2 == 0 {
                // A proper encoding of random bytes, damaged in one place.
                let bytes = (0..<Int.random(in: 1...40, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
                var encoded = Array(Data(bytes).base64EncodedString().utf8)
                encoded[Int.random(in: 0..<encoded.count, using: &generator)] = (alphabet + noise).randomElement(using: &generator)!
                texts.append(String(decoding: encoded, as: UTF8.self))
            } else {
                let length = Int.random(in: 0...16, using: &generator)
                texts.append(String(decoding: (0..<length).map { _ in alphabet.randomElement(using: &generator)! }, as: UTF8.self))
            }
        }
        var refusedByBoth = 0
        for text in texts {
            guard let decoded = Base64.decode(text) else {
                if foundation(text) == nil { refusedByBoth += 1 }
                continue
            }
            XCTAssertEqual(decoded, foundation(text), text.debugDescription)
        }
        XCTAssertGreaterThan(refusedByBoth, 1000, "the damaged and random texts include plenty of malformed ones")
    }
}
