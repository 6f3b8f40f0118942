import XCTest
@testable import OutboundCore
import COutbound

/// URLs go through libcurl's own parser, and what is sent parses again to what was checked.
final class TargetURLParserTests: XCTestCase {
    private func assertStable(_ url: TargetURL, file: StaticString = #filePath, line: UInt = #line) throws {
        let again = try TargetURLParser.parse(url.absoluteString)
        XCTAssertEqual(again, url, "the URL sent parses to the URL checked", file: file, line: line)
    }

    func testACanonicalURLIsSentAsWritten() throws {
        for text in ["http://127.0.0.1:18080/ingest/1", "https://acme.example/hooks/a?x=1&y=2", "http://[::1]:8080/p",
                     "https://acme.example:8443/"] {
            let url = try TargetURLParser.parse(text)
            XCTAssertEqual(url.absoluteString, text)
            try assertStable(url)
        }
    }

    func testPartsAreReadByLibcurl() throws {
        let url = try TargetURLParser.parse("https://acme.example:8443/hooks/a?x=1")
        XCTAssertEqual(url.scheme, "https")
        XCTAssertEqual(url.host, "acme.example")
        XCTAssertEqual(url.port, 8443)
        XCTAssertEqual(url.path, "/hooks/a")
        XCTAssertEqual(url.query, "x=1")
        XCTAssertEqual(try TargetURLParser.parse("http://acme.example/").port, 80, "the scheme's default port")
        XCTAssertEqual(try TargetURLParser.parse("https://acme.example/").port, 443)
    }

    func testANonCanonicalURLIsSentAsLibcurlSerializesIt() throws {
        let cases = [
            ("http://acme.example/a/../b", "/b"),
            ("http://acme.example", "/"),
            ("HTTP://ACME.example/x", "/x"),
            ("http://acme.example:080/x", "/x"),
            ("http://acme.example/./x/./y", "/x/y"),
        ]
        for (text, path) in cases {
            let url = try TargetURLParser.parse(text)
            XCTAssertEqual(url.path, path, text)
            XCTAssertEqual(url.host, "acme.example", text)
            XCTAssertNotEqual(url.absoluteString, text, "\(text) is not its own serialization")
            try assertStable(url)
        }
    }

    func testUserinfoAndFragmentsAreStillRefused() {
        XCTAssertThrowsError(try TargetURLParser.parse("http://user:pw@acme.example/")) { XCTAssertEqual($0 as? URLProblem, .hasUserinfo) }
        XCTAssertThrowsError(try TargetURLParser.parse("http://user@acme.example/")) { XCTAssertEqual($0 as? URLProblem, .hasUserinfo) }
        XCTAssertThrowsError(try TargetURLParser.parse("http://acme.example/a#top")) { XCTAssertEqual($0 as? URLProblem, .hasFragment) }
        // An empty fragment is a fragment all the same (libcurl alone would report none).
        XCTAssertThrowsError(try TargetURLParser.parse("http://acme.example/a#")) { XCTAssertEqual($0 as? URLProblem, .hasFragment) }
        XCTAssertThrowsError(try TargetURLParser.parse("http://acme.example/a?q=1#")) { XCTAssertEqual($0 as? URLProblem, .hasFragment) }
    }

    func testAnEmptyAuthorityIsRefusedNotRepaired() {
        for text in ["http:///acme.example/a", "HTTPS:///acme.example/", "http:////acme.example/"] {
            XCTAssertThrowsError(try TargetURLParser.parse(text), text) { XCTAssertEqual($0 as? URLProblem, .unparsable("empty host"), text) }
        }
        XCTAssertEqual(try TargetURLParser.parse("https://acme.example//a").path, "//a", "a double slash in the path is the path's")
    }

    func testAnEncodedAtSignOrHashIsPartOfThePath() throws {
        let url = try TargetURLParser.parse("http://acme.example/a%40b%23c")
        XCTAssertEqual(url.path, "/a%40b%23c")
        XCTAssertEqual(url.absoluteString, "http://acme.example/a%40b%23c")
        let inQuery = try TargetURLParser.parse("http://acme.example/p?mail=a@b")
        XCTAssertEqual(inQuery.host, "acme.example", "an @ after the path is not userinfo")
        XCTAssertEqual(inQuery.query, "mail=a@b")
    }
}

/// Which names are jobs, and the id a file name gives: both on bytes.
final class SpoolNameTests: XCTestCase {
    func testJobNamesEndInJsonAndDoNotStartWithADot() {
        XCTAssertTrue(Spool.isJobName("a.json"))
        XCTAssertTrue(Spool.isJobName("\u{600}.json"), "a character that joins the dot still ends the name in .json")
        XCTAssertFalse(Spool.isJobName(".json"))
        XCTAssertFalse(Spool.isJobName(".hidden.json"))
        XCTAssertFalse(Spool.isJobName("a.json.reason"))
        XCTAssertFalse(Spool.isJobName("a.JSON"))
        XCTAssertFalse(Spool.isJobName("a.jso"))
    }

    func testOriginalStemDropsJsonAndAClashSuffix() {
        XCTAssertEqual(SpoolMover.originalStem(of: "order-42.json"), "order-42")
        XCTAssertEqual(SpoolMover.originalStem(of: "order-42~3.json"), "order-42")
        XCTAssertEqual(SpoolMover.originalStem(of: "order-42~12.json"), "order-42")
        XCTAssertEqual(SpoolMover.originalStem(of: "order~x.json"), "order~x", "only digits after ~ make a clash suffix")
        XCTAssertEqual(SpoolMover.originalStem(of: "order~.json"), "order~")
        XCTAssertEqual(SpoolMover.originalStem(of: "v1.2.json"), "v1.2")
        XCTAssertEqual(SpoolMover.originalStem(of: "~7.json"), "")
        XCTAssertEqual(SpoolMover.originalStem(of: "café~2.json"), "café")
    }
}

/// Reading job files without touching their access time, and the way back when the kernel
/// refuses (files owned by another user).
final class DirectoryHandleTests: XCTestCase {
    func testAReadThatMayNotSkipTheAccessTimeFallsBackAndStopsAsking() throws {
        let folder = try Fixture.temporaryFolder("handle")
        defer { try? FileManager.default.removeItem(at: folder) }
        let handle = try DirectoryHandle(folder.path)
        let noAccessTime = outbound_o_noatime()
        var asked: [Bool] = []
        // A kernel that refuses O_NOATIME, as for a file of another user.
        let refusing: (Int32) -> Int32 = { flags in
            asked.append(flags & noAccessTime != 0)
            if flags & noAccessTime != 0 {
                errno = EPERM
                return -1
            }
            return open("/dev/null", O_RDONLY)
        }
        let first = handle.openForReading(refusing)
        XCTAssertGreaterThanOrEqual(first, 0, "the file is opened all the same")
        close(first)
        XCTAssertEqual(asked, [true, false])
        let second = handle.openForReading(refusing)
        XCTAssertGreaterThanOrEqual(second, 0)
        close(second)
        XCTAssertEqual(asked, [true, false, false], "after one refusal the folder stops asking")
    }

    func testOtherErrorsAreReportedNotRetried() throws {
        let folder = try Fixture.temporaryFolder("handle")
        defer { try? FileManager.default.removeItem(at: folder) }
        let handle = try DirectoryHandle(folder.path)
        var calls = 0
        let fd = handle.openForReading { _ in
            calls += 1
            errno = ENOENT
            return -1
        }
        XCTAssertEqual(fd, -1)
        XCTAssertEqual(errno, ENOENT)
        XCTAssertEqual(calls, 1)
    }

    func testAJobFileIsReadWhole() throws {
        let folder = try Fixture.temporaryFolder("handle")
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data("{\"a\":1}".utf8).write(to: folder.appendingPathComponent("j.json"))
        let handle = try DirectoryHandle(folder.path)
        guard case .contents(let bytes, _, _) = try handle.readRegularFile("j.json", limit: 100) else {
            return XCTFail("expected the contents")
        }
        XCTAssertEqual(String(decoding: bytes, as: UTF8.self), "{\"a\":1}")
    }
}
