import Foundation
import XCTest
@testable import OutboundCore

/// Group commit on the committer thread: work attached to lines is handed on only once the
/// lines are on disk, and never after a failed write.
final class AuditCommitterTests: XCTestCase {
    /// Collects what the committer hands on, with what the log file held at that moment.
    private final class Handed: @unchecked Sendable {
        private let lock = NSLock()
        private var batches: [(work: [Int], fileText: String)] = []
        func add(_ work: [Int], fileText: String) { lock.withLock { batches.append((work, fileText)) } }
        var all: [(work: [Int], fileText: String)] { lock.withLock { batches } }
    }

    private func record(_ job: String) -> AuditRecord {
        var record = AuditRecord(.accepted, at: 0)
        record.job = job
        return record
    }

    func testWorkIsHandedOnOnlyAfterItsLinesAreInTheFile() throws {
        let folder = try Fixture.temporaryFolder("committer")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("audit.jsonl").path
        let handed = Handed()
        let committer = AuditCommitter<Int>(log: try AuditLog(path: path), onDurable: { work in
            handed.add(work, fileText: (try? String(contentsOfFile: path, encoding: .utf8)) ?? "")
        }, wake: {})
        defer { committer.stop() }

        for round in 0..<50 {
            XCTAssertEqual(committer.append(record("job-\(round)")), round + 1, "lines are numbered from 1")
            committer.commit(handing: [round])
        }
        try committer.flush()
        XCTAssertEqual(committer.durableLines, 50)
        XCTAssertFalse(committer.hasUncommitted)
        let batches = handed.all
        XCTAssertEqual(batches.flatMap(\.work), Array(0..<50), "every piece of work, once, in order")
        for batch in batches {
            for work in batch.work {
                XCTAssertTrue(batch.fileText.contains("\"job\":\"job-\(work)\""), "job-\(work)'s line was on disk when its work was handed on")
            }
        }
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 50)
    }

    func testAFailedWriteHandsNothingOnAndReturnsTheWork() throws {
        let handed = Handed()
        let committer = AuditCommitter<Int>(log: try AuditLog(path: "/dev/full"), onDurable: { handed.add($0, fileText: "") }, wake: {})
        defer { committer.stop() }
        committer.append(record("a"))
        committer.commit(handing: [1, 2])
        XCTAssertThrowsError(try committer.flush()) { error in
            XCTAssertTrue("\(error)".contains("/dev/full"), "the error names the log: \(error)")
        }
        XCTAssertNotNil(committer.failure)
        XCTAssertEqual(committer.durableLines, 0)
        committer.append(record("b"))
        committer.commit(handing: [3])
        XCTAssertThrowsError(try committer.flush(), "nothing more is written after a failure")
        XCTAssertEqual(committer.takeUnhanded().sorted(), [1, 2, 3])
        XCTAssertTrue(handed.all.isEmpty)
    }
}
