import Foundation
import OutboundTestSupport
import XCTest

/// Issue 11: a job's retry state (`.state/NAME`: attempts made, first claim) that cannot be
/// read because of a transient error is not the same as no state. The job must not start
/// again from attempt 1 (a job with `maxAttempts` 3 would go out more than 3 times): it goes
/// back without a verdict, with a `spool_error` line, and is read again later. The fault
/// library (`scripts/fault.d/fault.c`, `LD_PRELOAD`) fails the `open` of that one file.
final class StateFileFaultTests: IntegrationTestCase {
    /// A receiver that always answers 503: every attempt ends in a retry, the third in failed/.
    private func makeRetryingSandbox() throws {
        try makeSandbox(serverHandler: { _ in .respond(status: 503) })
    }

    /// Places job `name` in `folder` with a state file saying 2 of its 3 attempts were made.
    private func placeJobWithTwoAttemptsMade(_ name: String, in folder: String) throws -> URL {
        let dropped = try sandbox.drop(name, job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/state"))
        var target = dropped
        if folder != "incoming" {
            let folderURL = sandbox.spool.appendingPathComponent(folder)
            try FileManager.default.createDirectory(at: folderURL, withIntermediateDirectories: true)
            target = folderURL.appendingPathComponent(name)
            try FileManager.default.moveItem(at: dropped, to: target)
        }
        let inode = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: target.path)[.systemFileNumber] as? NSNumber)
        let stateFolder = sandbox.spool.appendingPathComponent(".state")
        try FileManager.default.createDirectory(at: stateFolder, withIntermediateDirectories: true)
        let now = Date()
        let format = ISO8601DateFormatter()
        format.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let state = #"{"attempts":2,"firstClaimedAt":"\#(format.string(from: now.addingTimeInterval(-60)))","#
            + #""nextAttemptAt":"\#(format.string(from: now.addingTimeInterval(-1)))","inode":\#(inode.uint64Value)}"#
        let stateFile = stateFolder.appendingPathComponent(name)
        try Data((state + "\n").utf8).write(to: stateFile)
        return stateFile
    }


    func testAJobInIncomingWhoseStateCannotBeReadIsPutBackAndKeepsItsAttempts() throws {
        try makeRetryingSandbox()
        let stateFile = try placeJobWithTwoAttemptsMade("kept.json", in: "incoming")
        let faults = sandbox.root.appendingPathComponent("faults.log")

        // The first open of the state file fails with EMFILE; the next ones succeed.
        try drain(environment: FaultLibrary.failing("open", call: 1, errno: "EMFILE", under: stateFile, log: faults))

        XCTAssertEqual(FaultLibrary.injected(log: faults).count, 1, "the fault was injected: \(FaultLibrary.injected(log: faults))")
        XCTAssertEqual(server.requestCount, 1, "only the third and last attempt went out")
        assertJob("kept.json", isIn: "failed")
        XCTAssertEqual(sandbox.reason(of: "kept.json", in: "failed")?["attempts"] as? Int, 3)
        let errors = sandbox.audit("spool_error", job: "kept")
        XCTAssertEqual(errors.count, 1, "a spool_error line says why the job went back: \(sandbox.auditText)")
        XCTAssertTrue((errors.first?["error"] as? String ?? "").contains("EMFILE"), "\(errors)")
    }

    func testAJobInIncomingWhoseStateStaysUnreadableEndsTheDrainWithExit74() throws {
        try makeRetryingSandbox()
        let stateFile = try placeJobWithTwoAttemptsMade("stuck.json", in: "incoming")
        let faults = sandbox.root.appendingPathComponent("faults.log")

        // Every open of the state file fails with EMFILE: three tries, then the drain ends
        // with the job left in incoming/ (it would otherwise be put back every second forever).
        let result = try drain(environment: FaultLibrary.failing("open", call: 1, errno: "EMFILE", persist: true, under: stateFile, log: faults),
                               expect: 74)
        XCTAssertGreaterThanOrEqual(FaultLibrary.injected(log: faults).count, 3, "the fault was injected")
        XCTAssertEqual(server.requestCount, 0, "nothing was sent while its attempts could not be known")
        assertJob("stuck.json", isIn: "incoming")
        XCTAssertGreaterThanOrEqual(sandbox.audit("spool_error", job: "stuck").count, 3, sandbox.auditText)
        XCTAssertTrue(result.standardError.contains("1 job file(s) could not be moved out of incoming/ or read"), result.standardError)

        try drain()
        XCTAssertEqual(server.requestCount, 1, "only the third and last attempt went out")
        assertJob("stuck.json", isIn: "failed")
    }

    func testARetryWhoseStateCannotBeReadIsNotSentUntilItCanBe() throws {
        try makeRetryingSandbox()
        let stateFile = try placeJobWithTwoAttemptsMade("later.json", in: "deferred")
        let faults = sandbox.root.appendingPathComponent("faults.log")

        // Every open of the state file fails with EIO: the job waits in deferred/, and after
        // three tries the drain leaves it there for a later process and ends with exit 74
        // instead of trying forever.
        let result = try drain(environment: FaultLibrary.failing("open", call: 1, errno: "EIO", persist: true, under: stateFile, log: faults),
                               expect: 74)
        XCTAssertGreaterThan(FaultLibrary.injected(log: faults).count, 1, "the fault was injected")
        XCTAssertEqual(server.requestCount, 0, "nothing was sent while its attempts could not be known")
        assertJob("later.json", isIn: "deferred")
        XCTAssertTrue(FileManager.default.fileExists(atPath: stateFile.path), "its state file is kept")
        let errors = sandbox.audit("spool_error", job: "later")
        XCTAssertEqual(errors.count, 3, "a spool_error line per try: \(sandbox.auditText)")
        XCTAssertTrue((errors.first?["error"] as? String ?? "").contains("EIO"), "\(errors)")
        XCTAssertEqual(errors.last?["message"] as? String, "left in deferred/ for a later process: it could not be read 3 times in a row")
        XCTAssertTrue(result.standardError.contains("1 job file(s) could not be moved out of incoming/ or read"), result.standardError)

        // Readable again: the third and last attempt, once.
        try drain()
        XCTAssertEqual(server.requestCount, 1, "only the third and last attempt went out")
        assertJob("later.json", isIn: "failed")
        XCTAssertEqual(sandbox.reason(of: "later.json", in: "failed")?["attempts"] as? Int, 3)
    }

    /// A job set aside whose state file is written but whose folder's fsync fails: whether the
    /// state is on disk is unknown, so no `deferred` line is written; the job goes back to
    /// incoming/ and the process stops (exit 74).
    func testAStateThatCannotBeMadeDurableGetsNoDeferredLineAndTheJobGoesBack() throws {
        try makeRetryingSandbox()
        try sandbox.drop("once.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/once"))
        // The state file is fsynced first, then its folder.
        let injected = try drainInjecting("fsync", call: 2, errno: "EIO", under: ".state", expect: 74)
        XCTAssertEqual(injected.count, 1, "the fault was injected")
        XCTAssertTrue(injected.first?.hasSuffix("/.state") ?? false, "on the folder's fsync: \(injected)")
        XCTAssertEqual(sandbox.jobs(in: "incoming"), ["once.json"])
        XCTAssertEqual(sandbox.jobs(in: "deferred"), [])
        XCTAssertEqual(sandbox.jobs(in: "active"), [])
        XCTAssertEqual(sandbox.audit("deferred").count, 0, "no line for a state that may not be on disk")
        XCTAssertEqual(sandbox.audit("spool_error").count, 1)
    }
}
