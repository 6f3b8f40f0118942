import COutbound
import XCTest
@testable import OutboundCore

/// The header list and body handed to libcurl, built in one allocation (`RequestMemory`).
final class RequestMemoryTests: XCTestCase {
    /// Walks the list as libcurl does: `data` then `next`, until nil.
    private func lines(of memory: RequestMemory) -> [String] {
        var lines: [String] = []
        var node = memory.headerList
        while let current = node {
            lines.append(String(cString: current.pointee.data))
            node = current.pointee.next
        }
        return lines
    }

    func testTheListHoldsEveryLineInOrderAndTheBodyFollows() {
        let headerLines = ["Epic-Client-ID: b3f1c2d4", "Idempotency-Key: job-1", "Accept:", "X-Empty;", "Ü-Name: wert ü"]
        let body = Array("{\"a\":1}".utf8) + [0x00, 0xFF]
        let memory = RequestMemory(headerLines: headerLines, body: body)
        defer { memory.deallocate() }
        XCTAssertEqual(lines(of: memory), headerLines)
        let sent = UnsafeRawBufferPointer(start: memory.body, count: body.count)
        XCTAssertEqual(Array(sent), body, "the body's bytes, a NUL included")
    }

    func testNoLinesMeansNoListAndNoBodyMeansNoPointer() {
        let memory = RequestMemory(headerLines: [], body: nil)
        defer { memory.deallocate() }
        XCTAssertNil(memory.headerList)
        XCTAssertNil(memory.body)
    }

    func testAnEmptyBodyStillHasAPointer() {
        let memory = RequestMemory(headerLines: ["Content-Type:"], body: [])
        defer { memory.deallocate() }
        XCTAssertNotNil(memory.body, "CURLOPT_POSTFIELDS with size 0 needs a pointer, or libcurl would read the body from a callback")
        XCTAssertEqual(lines(of: memory), ["Content-Type:"])
    }

    func testLongLinesAndManyOfThem() {
        let headerLines = (0..<40).map { "X-Header-\($0): " + String(repeating: "v", count: $0 * 37) }
        let memory = RequestMemory(headerLines: headerLines, body: Array(repeating: 0x41, count: 100_000))
        defer { memory.deallocate() }
        XCTAssertEqual(lines(of: memory), headerLines)
        XCTAssertEqual(Array(UnsafeRawBufferPointer(start: memory.body, count: 100_000)), Array(repeating: 0x41, count: 100_000))
    }
}
