@testable import OutboundCore
import XCTest

/// The plain-URL reader must never read a URL differently from libcurl: the gate compares
/// what it reads, and the transfer connects to what libcurl reads.
final class PlainURLParserTests: XCTestCase {
    func testEveryGeneratedURLThePlainReaderTakesLibcurlReadsTheSame() throws {
        // Plain pieces more often than the others, so that many URLs are plain.
        let schemes = ["http://", "http://", "https://", "https://", "HTTP://", "http:/", "ftp://", "https:"]
        let hostPieces = ["a", "z", "q", "0", "1", "9", "00", "127", "255", "256", "0x7f", "x", ".", ".", "-", "localhost",
                          "example", "com", "b", "c", "a.b", "example.org", "A", "_", "%41", "@", "[::1]", "ü"]
        let ports = ["", "", "", ":", ":0", ":80", ":8080", ":65535", ":65536", ":080", ":1", ":99999", ":a"]
        let pathPieces = ["a", "a", "b", "c/", "v1", "x=y", "B", "hooks", "~", "-", "_", ".", "..", "%2e", "%41", "@", "/", "/", "/", ":", ";", "=", "!",
                          "$", "'", "(", ")", "*", "+", ",", "&", " ", "\\", "#", "?", "\"", "|", "é"]
        let queries = ["", "", "?", "?a=b", "?%20", "?a?b", "?x#y", "?a&b=%zz", "?/x/../y", "?a b", "?q=1&r=2"]
        var generator = SeededGenerator(seed: 20261205)
        var taken = 0
        var agreedWithLibcurl = 0
        for _ in 0..<200_000 {
            var url = schemes.randomElement(using: &generator)!
            for _ in 0..<Int.random(in: 0...4, using: &generator) { url += hostPieces.randomElement(using: &generator)! }
            url += ports.randomElement(using: &generator)!
            if Int.random(in: 0..<6, using: &generator) > 0 {
                url += "/"
                for _ in 0..<Int.random(in: 0...5, using: &generator) { url += pathPieces.randomElement(using: &generator)! }
            }
            url += queries.randomElement(using: &generator)!
            guard let plain = PlainURLParser.parse(url) else { continue }
            taken += 1
            let curl = try? TargetURLParser.parseWithLibcurl(url)
            XCTAssertEqual(plain, curl, "\(url): read as \(plain) here, as \(curl.map { "\($0)" } ?? "an error") by libcurl")
            if plain == curl { agreedWithLibcurl += 1 }
        }
        // Not a vacuous check: thousands of URLs were read both ways.
        XCTAssertGreaterThan(taken, 3_000)
        XCTAssertEqual(agreedWithLibcurl, taken)
    }

    func testURLsLibcurlReadsInItsOwnWayAreLeftToIt() {
        for url in ["http://127.1/", "http://0x7f.0.0.1/", "http://017.0.0.1/", "http://2130706433/", "http://a/./b",
                    "http://a/b/../c", "http://A/", "http://a:/", "http://a", "http://a/?", "http://a//b", "http://a.b./",
                    "http://a/%2e%2e/", "http://user@a/", "http://a/b#c", "http://[::1]/", "http://a:080/", "http://a/b c"] {
            XCTAssertNil(PlainURLParser.parse(url), url)
        }
        // libcurl refuses URLs of 8,000,000 bytes and more: long ones are its to judge.
        XCTAssertNotNil(PlainURLParser.parse("http://a/" + String(repeating: "b", count: PlainURLParser.maxLength - 9)))
        XCTAssertNil(PlainURLParser.parse("http://a/" + String(repeating: "b", count: PlainURLParser.maxLength - 8)))
        XCTAssertThrowsError(try TargetURLParser.parse("http://a/" + String(repeating: "b", count: 8_000_000)))
    }

    func testPlainURLsAreReadWithoutLibcurlAndAsLibcurlReadsThem() throws {
        for url in ["http://127.0.0.1:8080/hooks/", "https://partner.example.org/api/v1/x?y=1%202", "http://localhost/",
                    "https://a-b.c0/p:q;r=s/t~u?v=w&x=y"] {
            let plain = try XCTUnwrap(PlainURLParser.parse(url), url)
            XCTAssertEqual(plain, try TargetURLParser.parseWithLibcurl(url), url)
            XCTAssertEqual(plain.absoluteString, url)
        }
    }
}

/// A small deterministic generator (SplitMix64), so a failure can be reproduced.
private struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
