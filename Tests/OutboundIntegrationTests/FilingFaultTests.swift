import Foundation
import OutboundTestSupport
import XCTest

/// Issue 11: a failing rename or fsync while jobs are filed never strands a job in a live
/// process's claim, and a failed fsync is never trusted to be made good by a later one: the
/// process stops (exit 74) with its claims put back and a `spool_error` line. The fault
/// library (`scripts/fault.d/fault.c`, `LD_PRELOAD`) fails the syscall in the real binary.
final class FilingFaultTests: IntegrationTestCase {
    private static let jobCount = 40

    private func dropJobs(path: String) throws {
        for index in 0..<Self.jobCount {
            try sandbox.drop(String(format: "file-%03d.json", index), job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/\(path)/\(index)"))
        }
    }


    /// Every job in exactly one of `folders`; none anywhere else.
    private func assertEveryJobIsIn(_ folders: [String], file: StaticString = #filePath, line: UInt = #line) {
        let all = ["incoming", "active", "deferred", "delivered", "failed", "refused", "corrupt", "hold"]
        var seen: [String: [String]] = [:]
        for folder in all {
            for name in sandbox.jobs(in: folder) { seen[name, default: []].append(folder) }
        }
        XCTAssertEqual(seen.count, Self.jobCount, "no job lost", file: file, line: line)
        for (name, places) in seen where places.count != 1 || !folders.contains(places[0]) {
            XCTFail("\(name) is in \(places)", file: file, line: line)
        }
    }

    func testAFailedFsyncOfAnOutcomeFolderStopsTheProcessWithNothingStranded() throws {
        // Answers spread over time (4 at a time, 20 ms each), so the first batch filed into
        // delivered/ is a few jobs, not all of them.
        try makeSandbox(serverHandler: { _ in .respondAfter(milliseconds: 20, status: 204) }, settings: ["concurrency": 4])
        try dropJobs(path: "ok")
        let delivered = sandbox.spool.appendingPathComponent("delivered")
        try FileManager.default.createDirectory(at: delivered, withIntermediateDirectories: true)
        let faults = sandbox.root.appendingPathComponent("faults.log")

        // The first fsync of delivered/ (after the first batch was renamed into it) fails.
        let result = try drain(environment: FaultLibrary.failing("fsync", call: 1, errno: "EIO", under: delivered, log: faults),
                               expect: 74)

        XCTAssertEqual(FaultLibrary.injected(log: faults).count, 1, "the fault was injected")
        let errors = sandbox.audit("spool_error")
        XCTAssertEqual(errors.count, 1, "one spool_error line: \(errors)")
        XCTAssertEqual(errors.first?["error"] as? String, "fsync: EIO (Input/output error)")
        XCTAssertEqual(sandbox.jobs(in: "active"), [], "no claim stranded")
        assertEveryJobIsIn(["delivered", "incoming"])
        let filed = sandbox.jobs(in: "delivered").count
        XCTAssertLessThan(filed, Self.jobCount, "the process stopped instead of going on")
        XCTAssertTrue(result.standardOutput.contains("delivered=\(filed) "), "the summary counts what is on disk: \(result.standardOutput)")

        // A clean drain takes the rest.
        try drain()
        assertEveryJobIsIn(["delivered"])
        XCTAssertEqual(server.requestCount, Self.jobCount, "each job was sent once")
    }

    /// A claim that must go back to incoming/ without a verdict (here a file too young to be
    /// judged) but cannot be moved (EIO, every time) stays claimed and is tried again once a
    /// second (its own bytes' release must not make the intake retry it in a tight loop);
    /// after three failures the process stops (exit 74), since the intake claims nothing new
    /// meanwhile. The claim stays in the dead process's folder for the next one's recovery.
    func testAClaimThatCannotBeMovedBackIsTriedOnceASecondThenTheProcessStops() throws {
        try makeSandbox()
        try sandbox.drop("young.json", bytes: Data("{\"clientId\":".utf8), age: -30)
        let faults = sandbox.root.appendingPathComponent("faults.log")
        // The first rename out of active/ makes the process's claim folder; the second is the put-back.
        let environment = try FaultLibrary.failing("rename", call: 2, errno: "EIO", persist: true,
                                                   under: sandbox.spool.appendingPathComponent("active"), log: faults)
        let run = try OutboundProcess(["run", "--spool", sandbox.spool.path, "--config", sandbox.config.path], environment: environment)
        let started = Date()
        XCTAssertEqual(run.wait(timeout: 20), 74, run.standardError)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 1.9, "tried again a second apart")
        let tries = run.standardError.components(separatedBy: "stays claimed and is read again in a second").count - 1
        XCTAssertEqual(tries, 3, "three tries, not a loop: \(run.standardError)")
        let errors = sandbox.audit("spool_error")
        XCTAssertEqual(errors.first?["job"] as? String, "young", "\(errors)")
        XCTAssertEqual(errors.first?["message"] as? String, "a claim could not be put back in incoming/; this process stops")
        XCTAssertEqual(sandbox.jobs(in: "active"), ["young.json"], "still claimed, nowhere else")
    }

    /// A drain does not end while a claim waits to be moved back: its put-back failed once
    /// (EIO), the drain waits, moves it a second later, and files it (here in corrupt/, once
    /// it is old enough) instead of leaving it in incoming/ at its stop.
    func testADrainWaitsForAClaimWhoseMoveBackFailedOnce() throws {
        try makeSandbox()
        try sandbox.drop("young.json", bytes: Data("{\"clientId\":".utf8), age: -1)
        // The first rename out of active/ makes the process's claim folder; the second is the put-back.
        XCTAssertEqual(try drainInjecting("rename", call: 2, errno: "EIO", under: "active").count, 1, "the fault was injected")
        XCTAssertEqual(sandbox.jobs(in: "corrupt"), ["young.json"])
        XCTAssertEqual(sandbox.jobs(in: "incoming"), [])
    }

    func testAFailedMoveIntoDeferredPutsTheJobBackAndStopsTheProcess() throws {
        // Every job's first request is answered 503: its first move out of the claim folder
        // is into deferred/.
        try makeSandbox(serverHandler: Responders.failThenSucceed(failures: 1, retryAfter: "0"), settings: ["concurrency": 4])
        try dropJobs(path: "retry")

        // The second rename out of active/ fails: the first is the claim folder's own (made
        // as a temporary folder and renamed in at start), the second a job's first move.
        let injected = try drainInjecting("rename", call: 2, errno: "EIO", under: "active", expect: 74)
        XCTAssertEqual(injected.count, 1, "the fault was injected")
        XCTAssertTrue(injected.first?.hasSuffix(".json") ?? false, "on a job's move: \(injected)")
        XCTAssertEqual(sandbox.jobs(in: "active"), [], "no claim stranded")
        assertEveryJobIsIn(["deferred", "incoming", "delivered"])
        let errors = sandbox.audit("spool_error")
        XCTAssertEqual(errors.count, 1, "one spool_error line: \(errors)")
        XCTAssertEqual(errors.first?["error"] as? String, "rename: EIO (Input/output error)")
        XCTAssertEqual(errors.first?["message"] as? String, "put back in deferred/; this process stops")

        // A clean drain takes the rest; no job starts again from attempt 1.
        try drain()
        assertEveryJobIsIn(["delivered"])
        XCTAssertEqual(server.requestCount, 2 * Self.jobCount, "each job was sent twice: 503, then 204")
    }
}
