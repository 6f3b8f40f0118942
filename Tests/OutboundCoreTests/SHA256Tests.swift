import OutboundCore
import XCTest

/// The audit chain's hash against the published SHA-256 test vectors (FIPS 180-2, appendix B),
/// and against itself across the one-block boundaries where a broken padding shows.
final class SHA256Tests: XCTestCase {
    func testPublishedVectors() {
        XCTAssertEqual(SHA256.hex([]), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256.hex([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testAppendHexMatchesHexAtEveryLengthAroundABlock() {
        for length in 0...130 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            var appended: [UInt8] = Array("x".utf8)
            bytes.withUnsafeBytes { SHA256.appendHex(of: $0, to: &appended) }
            XCTAssertEqual(String(decoding: appended, as: UTF8.self), "x" + SHA256.hex(bytes), "length \(length)")
            XCTAssertEqual(appended.count, 65)
        }
    }
}
