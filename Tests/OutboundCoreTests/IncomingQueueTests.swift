import XCTest
@testable import OutboundCore

/// The order a pass hands names out in: byte-wise (contract 14's lane order), whichever way
/// the listing is sorted.
final class IncomingQueueTests: XCTestCase {
    private var folder = ""

    override func setUpWithError() throws {
        var template = Array("/tmp/outbound-incoming-XXXXXX".utf8CString)
        folder = try XCTUnwrap(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }.map { String(cString: $0) })
    }

    override func tearDown() {
        _ = try? FileManager.default.removeItem(atPath: folder)
    }

    private func drop(_ names: [String]) {
        for name in names { XCTAssertTrue(FileManager.default.createFile(atPath: folder + "/" + name, contents: Data("{}".utf8))) }
    }

    private func handedOut(_ queue: IncomingQueue) -> [String] {
        var names: [String] = []
        while let name = queue.next() { names.append(name) }
        return names
    }

    func testAnAllASCIIListingComesOutInByteOrder() {
        let names = (0..<300).map { String(format: "job-%04d.json", ($0 * 7919) % 300) } + ["Z.json", "a.json", "_.json", "job-10.json", "job-1.json"]
        drop(names.shuffled())
        let queue = IncomingQueue(folder: folder)
        queue.startPass()
        let order = handedOut(queue)
        XCTAssertEqual(order, names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
        XCTAssertEqual(order.count, 305)
    }

    func testNamesBeyondASCIIComeOutInByteOrderNotUnicodeOrder() {
        // "é" composed (C3 A9) and decomposed (65 CC 81) are equal to Swift's `<` and `==`
        // but not byte-wise; "ﬀ" (EF AC 80) sorts after "z" byte-wise.
        let names = ["e\u{301}-2.json", "\u{E9}-1.json", "z.json", "\u{FB00}.json", "a.json", "e.json"]
        drop(names)
        let queue = IncomingQueue(folder: folder)
        queue.startPass()
        XCTAssertEqual(handedOut(queue).map { Array($0.utf8) },
                       names.map { Array($0.utf8) }.sorted { $0.lexicographicallyPrecedes($1) })
    }

    func testSortBytewiseAgreesWithBytesEitherWay() {
        var ascii = (0..<2000).map { _ in String((0..<Int.random(in: 1...12)).map { _ in Character(Unicode.Scalar(UInt8.random(in: 0x20...0x7E))) }) }
        let expected = ascii.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        IncomingQueue.sortBytewise(&ascii, allASCII: true)
        XCTAssertEqual(ascii, expected)
        var mixed = ["\u{E9}", "e\u{301}", "e", "f", "\u{FB00}", "E"]
        IncomingQueue.sortBytewise(&mixed, allASCII: false)
        XCTAssertEqual(mixed.map { Array($0.utf8) }, ["E", "e", "e\u{301}", "f", "\u{E9}", "\u{FB00}"].map { Array($0.utf8) })
    }

    /// A `run` started on a backlog: the listing has a lane's earlier job, inotify reports
    /// a later one before the first claim. The earlier goes first.
    func testAListedNameGoesBeforeALaterReportedOne() {
        drop(["e-00002.json", "e-00004.json"])
        let queue = IncomingQueue(folder: folder)
        queue.startPass()
        drop(["e-00003.json", "e-00001.json"])
        queue.noteArrivals(["e-00003.json", "e-00001.json"])
        XCTAssertEqual(handedOut(queue), ["e-00001.json", "e-00002.json", "e-00003.json", "e-00004.json"])
    }

    /// Reported names not yet handed out stay in byte-wise order across batches.
    func testReportedBatchesMergeInByteOrder() {
        let queue = IncomingQueue(folder: folder)
        queue.noteArrivals(["b.json", "d.json"])
        XCTAssertEqual(queue.next(), "b.json")
        queue.noteArrivals(["c.json", "a.json", "not-a-job.tmp"])
        queue.noteArrivals(["e.json"])
        XCTAssertEqual(handedOut(queue), ["a.json", "c.json", "d.json", "e.json"])
    }
}
