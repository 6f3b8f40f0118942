import Foundation
@testable import OutboundCore
import XCTest

/// The loop's wake-up (an eventfd beside libcurl's sockets): any thread ends a `wait` early,
/// a wake-up given before the wait is kept for it, and once taken it is gone. Real libcurl,
/// no transfers: without a wake-up each wait would sleep its whole timeout.
final class TransferEngineWakeUpTests: XCTestCase {
    private func openEngine() throws -> TransferEngine {
        let engine = try TransferEngine(maxConnections: 4)
        try engine.open()
        return engine
    }

    /// A pipe with one byte waiting in it, so its read end is readable; closed after `body`.
    private func withReadablePipe(_ body: (_ readEnd: Int32) throws -> Void) throws {
        var ends: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&ends), 0)
        defer { close(ends[0]); close(ends[1]) }
        XCTAssertEqual(write(ends[1], "x", 1), 1)
        try body(ends[0])
    }

    private func timed(_ body: () throws -> Void) rethrows -> TimeInterval {
        let start = Date()
        try body()
        return Date().timeIntervalSince(start)
    }

    func testAWakeUpFromAnotherThreadEndsTheWait() throws {
        let engine = try openEngine()
        let wake = engine.wakeUp
        let waker = Thread {
            Thread.sleep(forTimeInterval: 0.1)
            wake()
        }
        waker.start()
        let elapsed = try timed { _ = try engine.wait(watching: [], timeoutMs: 10_000) }
        XCTAssertLessThan(elapsed, 5, "the wait ran to its 10 s timeout")
    }

    func testAWakeUpBeforeTheWaitIsKeptForItThenCleared() throws {
        let engine = try openEngine()
        engine.wakeUp()
        engine.wakeUp()
        let first = try timed { _ = try engine.wait(watching: [], timeoutMs: 10_000) }
        XCTAssertLessThan(first, 5, "a wake-up given before the wait was lost")
        let second = try timed { _ = try engine.wait(watching: [], timeoutMs: 300) }
        XCTAssertGreaterThanOrEqual(second, 0.25, "the wake-ups were not cleared by the wait that took them")
    }

    func testTheWaitReportsTheCallersDescriptorsAndNotItsOwn() throws {
        let engine = try openEngine()
        try withReadablePipe { readEnd in
            engine.wakeUp()
            let readable = try engine.wait(watching: [readEnd], timeoutMs: 10_000)
            XCTAssertEqual(readable, [readEnd])
        }
    }

    /// The descriptors handed to libcurl are kept from wait to wait, and libcurl leaves their
    /// `revents` alone when its poll times out: a descriptor read empty since must not be
    /// reported again by a wait that saw nothing.
    func testADescriptorReadSinceIsNotReportedByTheNextWait() throws {
        let engine = try openEngine()
        try withReadablePipe { readEnd in
            XCTAssertEqual(try engine.wait(watching: [readEnd], timeoutMs: 10_000), [readEnd])
            var byte: UInt8 = 0
            XCTAssertEqual(read(readEnd, &byte, 1), 1)
            XCTAssertEqual(try engine.wait(watching: [readEnd], timeoutMs: 50), [])
        }
    }
}
