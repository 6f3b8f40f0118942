import Foundation
import XCTest
@testable import OutboundCore

/// The chain's pure parts: sealing lines, finding a line's link, and the verifier's verdicts.
final class AuditChainUnitTests: XCTestCase {
    private func sealed(_ count: Int, after head: AuditHead = .genesis) throws -> [[UInt8]] {
        var chain = AuditChain(after: head)
        var input: [UInt8] = []
        for index in 0..<count { input += Array("{\"event\":\"delivered\",\"job\":\"j\(index)\"}\n".utf8) }
        var out: [UInt8] = []
        try chain.seal(input, into: &out)
        return out.split(separator: 0x0A).map(Array.init)
    }

    private func verify(_ lines: [[UInt8]], checkpoints: [AuditChainVerifier.Checkpoint] = []) -> AuditChainVerifier.Fault? {
        var verifier = AuditChainVerifier(checkpoints: checkpoints)
        verifier.beginFile("log")
        for line in lines {
            if let fault = line.withUnsafeBytes({ verifier.check($0) }) { return fault }
        }
        return verifier.finish()
    }

    func testSealedLinesCarrySeqAndThePreviousLinesHash() throws {
        let lines = try sealed(3)
        XCTAssertEqual(String(decoding: lines[0], as: UTF8.self),
                       "{\"event\":\"delivered\",\"job\":\"j0\",\"seq\":1,\"prev\":\"\(String(repeating: "0", count: 64))\"}")
        XCTAssertTrue(String(decoding: lines[1], as: UTF8.self).hasSuffix(",\"seq\":2,\"prev\":\"\(SHA256.hex(lines[0]))\"}"))
        XCTAssertEqual(lines[2].withUnsafeBytes { AuditLink(in: $0)?.seq }, 3)
    }

    func testTheChainGoesOnFromAGivenHead() throws {
        let head = AuditHead(seq: 41, sha256: Array(String(repeating: "a", count: 64).utf8))
        let lines = try sealed(1, after: head)
        XCTAssertTrue(String(decoding: lines[0], as: UTF8.self).hasSuffix(",\"seq\":42,\"prev\":\"\(String(repeating: "a", count: 64))\"}"))
    }

    func testALineThatIsNotAnObjectIsRejected() {
        var chain = AuditChain(after: .genesis)
        var out: [UInt8] = []
        XCTAssertThrowsError(try chain.seal(Array("not json\n".utf8), into: &out))
        XCTAssertThrowsError(try chain.seal(Array("{\"a\":1}".utf8), into: &out), "no newline")
    }

    func testALinkIsFoundOnlyWhereTheChainWritesIt() {
        func link(_ text: String) -> AuditLink? { Array(text.utf8).withUnsafeBytes { AuditLink(in: $0) } }
        let hash = String(repeating: "b", count: 64)
        XCTAssertEqual(link("{\"a\":1,\"seq\":12,\"prev\":\"\(hash)\"}")?.seq, 12)
        XCTAssertNil(link("{\"a\":1,\"seq\":12,\"prev\":\"\(hash.uppercased())\"}"), "uppercase hex")
        XCTAssertNil(link("{\"a\":1,\"seq\":012,\"prev\":\"\(hash)\"}"), "leading zero")
        XCTAssertNil(link("{\"a\":1,\"prev\":\"\(hash)\",\"seq\":12}"), "not at the end")
        XCTAssertNil(link("{\"a\":1}"))
    }

    func testAnIntactChainPasses() throws {
        XCTAssertNil(verify(try sealed(20)))
    }

    func testEachTamperingIsNamed() throws {
        let lines = try sealed(10)
        var edited = lines
        edited[3][3] ^= 0x01
        XCTAssertEqual(verify(edited), .edited(.init(file: "log", line: 4), seq: 4, next: .init(file: "log", line: 5)))

        var deleted = lines
        deleted.remove(at: 4)
        XCTAssertEqual(verify(deleted), .missing(fromSeq: 5, toSeq: 5, before: .init(file: "log", line: 5), previousFile: nil))

        var swapped = lines
        swapped.swapAt(2, 3)
        XCTAssertEqual(verify(swapped), .swapped(.init(file: "log", line: 3), .init(file: "log", line: 4)))

        var repeated = lines
        repeated.insert(lines[2], at: 3)
        XCTAssertEqual(verify(repeated), .repeated(.init(file: "log", line: 4), seq: 3, previous: .init(file: "log", line: 3)))

        var firstEdited = lines
        firstEdited[0] = try sealed(1, after: AuditHead(seq: 0, sha256: Array(String(repeating: "1", count: 64).utf8)))[0]
        XCTAssertEqual(verify(firstEdited), .firstLineHasPrev(.init(file: "log", line: 1)))
    }

    func testTheEndIsHeldAgainstTheHead() throws {
        let lines = try sealed(10)
        let head = AuditChainVerifier.Checkpoint(seq: 10, sha256: Array(SHA256.hex(lines[9]).utf8), source: "the head", mustBeCovered: false)
        XCTAssertNil(verify(lines, checkpoints: [head]))
        XCTAssertEqual(verify(Array(lines.prefix(8)), checkpoints: [head]),
                       .truncated(lastSeq: 8, last: .init(file: "log", line: 8), checkpointSeq: 10, source: "the head"))
        var lastEdited = lines
        lastEdited[9][2] ^= 0x01
        XCTAssertEqual(verify(lastEdited, checkpoints: [head]), .checkpointMismatch(.init(file: "log", line: 10), seq: 10, source: "the head"))
        let behind = AuditChainVerifier.Checkpoint(seq: 7, sha256: Array(SHA256.hex(lines[6]).utf8), source: "the head", mustBeCovered: false)
        XCTAssertNil(verify(lines, checkpoints: [behind]), "a head behind the log is not tampering")
    }

    func testAHeadRecordRoundTrips() {
        let record = AuditHeadRecord(head: AuditHead(seq: 5, sha256: Array(String(repeating: "c", count: 64).utf8)), logInode: 77, logBytes: 1234)
        XCTAssertEqual(AuditHeadRecord(parsing: record.serialized()), record)
        XCTAssertNil(AuditHeadRecord(parsing: Array("{\"seq\":5}".utf8)))
    }

    func testMetricsCountOutcomesAndAttemptsWithoutURLs() {
        let registry = MetricsRegistry()
        var delivered = AuditRecord(.delivered, at: 0)
        delivered.status = 204
        delivered.ms = 30
        var deferred = AuditRecord(.deferred, at: 0)
        deferred.error = "connect: Connection refused"
        deferred.ms = 2
        var refused = AuditRecord(.refused, at: 0)
        refused.reason = "inactive_client"
        var down = AuditRecord(.destinationDown, at: 0)
        down.destination = "https://acme.example:443"
        var up = AuditRecord(.destinationUp, at: 0)
        up.destination = "https://other.example:443"
        registry.observe([delivered, deferred, refused, AuditRecord(.accepted, at: 0), down, up])
        let snapshot = registry.snapshot()
        XCTAssertEqual(snapshot.attempts, ["2xx": 1, "connect": 1])
        XCTAssertEqual(snapshot.outcomes.count, 3)
        XCTAssertEqual(snapshot.destinationsOpen, ["https://acme.example:443": 1, "https://other.example:443": 0])
        XCTAssertEqual(snapshot.durationCount, 2)
        XCTAssertEqual(snapshot.durationCounts[MetricsRegistry.durationBuckets.firstIndex(of: 0.05)!], 2)
        XCTAssertEqual(snapshot.durationCounts[0], 1, "2 ms is within the 5 ms bucket, 30 ms is not")
        XCTAssertEqual(MetricsExposition.escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd")
    }
}
