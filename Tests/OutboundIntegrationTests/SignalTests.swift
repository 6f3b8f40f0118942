import Foundation
import OutboundTestSupport
import XCTest

/// `outbound run`: inotify pick-up, SIGTERM and SIGHUP (contract section 1).
final class SignalTests: IntegrationTestCase {
    func testRunDeliversNewFilesPromptlyAndStopsCleanlyOnSigterm() throws {
        try makeSandbox()
        let running = try sandbox.startRun()
        XCTAssertTrue(SpoolSandbox.waitUntil { self.sandbox.audit("started").count == 1 })
        let dropped = Date()
        try sandbox.drop("live.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/live"))
        XCTAssertTrue(server.waitForRequests(1, timeout: 5))
        // Noticed through inotify, far sooner than the 2-second rescan.
        XCTAssertLessThan(server.requests[0].receivedAt.timeIntervalSince(dropped), 1.0)
        XCTAssertTrue(SpoolSandbox.waitUntil { self.sandbox.jobs(in: "delivered") == ["live.json"] })

        running.signal(SIGTERM)
        XCTAssertEqual(running.wait(timeout: 20), 0)
        XCTAssertEqual(sandbox.audit("stopped").count, 1)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: sandbox.spool.appendingPathComponent("active").path), [],
                       "the claim folder is gone after a clean stop")
    }

    func testSigtermPutsUnfinishedClaimsBack() throws {
        try makeSandbox(serverHandler: { _ in .respondAfter(milliseconds: 5000, status: 204) })
        for index in 0..<3 {
            try sandbox.drop("pending-\(index).json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/\(index)"))
        }
        let running = try sandbox.startRun(["--grace", "0.5"])
        XCTAssertTrue(server.waitForRequests(3, timeout: 10))
        running.signal(SIGTERM)
        XCTAssertEqual(running.wait(timeout: 20), 0)
        XCTAssertEqual(sandbox.jobs(in: "incoming"), ["pending-0.json", "pending-1.json", "pending-2.json"])
        XCTAssertEqual(sandbox.jobs(in: "active"), [])
        let stopped = try XCTUnwrap(sandbox.audit("stopped").first)
        XCTAssertEqual(stopped["count"] as? Int, 3, "the stopped line counts the claims put back")
    }

    /// SIGTERM while jobs are being set aside, their states saved one by one on a disk made
    /// slow: those whose state is being saved still get their line and their move into
    /// deferred/; those not begun go back to incoming/ unrecorded, so the stop does not wait
    /// for the whole queue. None is left in the claim folder.
    func testSigtermWhileJobsAreBeingSetAsideFilesOrPutsBackEachAndWaitsForOneTurnAtMost() throws {
        try makeSandbox(serverHandler: { _ in .respond(status: 503) }, settings: [
            "retry": ["maxAttempts": 5, "baseDelayMs": 60000, "maxDelayMs": 60000, "maxAgeSeconds": 3600],
        ])
        let names = (0..<12).map { String(format: "aside-%02d.json", $0) }
        for (index, name) in names.enumerated() {
            try sandbox.drop(name, job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/\(index)"))
        }
        let stateFolder = sandbox.spool.appendingPathComponent(".state")
        // Each state file takes 300 ms to reach the disk: at the signal most are still queued.
        let running = try OutboundProcess(["run", "--spool", sandbox.spool.path, "--config", sandbox.config.path],
                                          environment: FaultLibrary.slowingFsyncs(under: stateFolder, milliseconds: 300))
        XCTAssertTrue(server.waitForRequests(12, timeout: 10))
        // The signal comes once a state is being written (its temporary file is there, its
        // fsync slowed): the server's count alone says the answers went out, not that the
        // loop has begun setting any job aside.
        waitUntilAStateSaveIsUnderWay()
        running.signal(SIGTERM)
        XCTAssertEqual(running.wait(timeout: 30), 0, "stderr: \(running.standardError)")
        XCTAssertEqual(sandbox.jobs(in: "active"), [], "no job left claimed")
        let deferred = sandbox.jobs(in: "deferred"), putBack = sandbox.jobs(in: "incoming")
        XCTAssertEqual((deferred + putBack).sorted(), names, "each job in one of the two")
        XCTAssertFalse(deferred.isEmpty, "the states being saved at the signal were finished")
        XCTAssertFalse(putBack.isEmpty, "the states not begun were not waited for")
        XCTAssertEqual(sandbox.audit("deferred").compactMap { $0["file"] as? String }.sorted(), deferred)
        for name in deferred {
            let state = try JSONSerialization.jsonObject(with: Data(contentsOf: stateFolder.appendingPathComponent(name))) as? [String: Any]
            XCTAssertEqual(state?["attempts"] as? Int, 1, "the state of \(name)")
        }
        XCTAssertEqual(sandbox.audit("stopped").first?["count"] as? Int, putBack.count, "the stopped line counts the jobs put back")
    }

    func testSighupReloadDeactivatesAClientWhoseJobWaitsForARetry() throws {
        try makeSandbox(serverHandler: { _ in .respond(status: 503) }, settings: [
            "retry": ["maxAttempts": 5, "baseDelayMs": 1500, "maxDelayMs": 1500, "maxAgeSeconds": 3600],
        ])
        let running = try sandbox.startRun()
        defer { running.signal(SIGKILL); running.wait(timeout: 5) }
        try sandbox.drop("waiting.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/w"))
        XCTAssertTrue(SpoolSandbox.waitUntil { self.sandbox.jobs(in: "deferred") == ["waiting.json"] })

        try deactivateTheClientAndReload(running)

        XCTAssertTrue(SpoolSandbox.waitUntil(timeout: 10) { self.sandbox.jobs(in: "refused") == ["waiting.json"] })
        XCTAssertEqual(sandbox.reason(of: "waiting.json", in: "refused")?["reason"] as? String, "inactive_client_id")
        XCTAssertEqual(server.requestCount, 1, "no attempt after the client was deactivated")
        running.signal(SIGTERM)
        XCTAssertEqual(running.wait(timeout: 20), 0)
    }

    func testSighupReloadRefusesAClaimedJobStillWaitingForItsFirstAttempt() throws {
        // One transfer at a time, and the first is slow: the second job is claimed, passes
        // the gate and waits for the slot while the client is deactivated.
        try makeSandbox(serverHandler: { request in
            request.path.hasSuffix("/slow") ? .respondAfter(milliseconds: 3000, status: 204) : .respond(status: 204)
        }, settings: ["concurrency": 1, "perHostConcurrency": 1])
        let running = try sandbox.startRun()
        defer { running.signal(SIGKILL); running.wait(timeout: 5) }
        try sandbox.drop("slow.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/slow"))
        XCTAssertTrue(server.waitForRequests(1, timeout: 10))
        try sandbox.drop("waiting.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/waiting"))
        XCTAssertTrue(SpoolSandbox.waitUntil { self.sandbox.audit("accepted").count == 2 }, "the second job passed the gate at its claim")

        try deactivateTheClientAndReload(running)

        XCTAssertTrue(SpoolSandbox.waitUntil(timeout: 10) { self.sandbox.jobs(in: "refused") == ["waiting.json"] })
        XCTAssertEqual(sandbox.reason(of: "waiting.json", in: "refused")?["reason"] as? String, "inactive_client_id")
        XCTAssertTrue(SpoolSandbox.waitUntil(timeout: 10) { self.sandbox.jobs(in: "delivered") == ["slow.json"] },
                      "the attempt already under way finishes")
        XCTAssertEqual(server.requests.map(\.path), ["/hooks/slow"], "the waiting job was never sent")
        running.signal(SIGTERM)
        XCTAssertEqual(running.wait(timeout: 20), 0)
    }

    func testSighupWithABrokenConfigKeepsTheOldOne() throws {
        try makeSandbox()
        let running = try sandbox.startRun()
        defer { running.signal(SIGKILL); running.wait(timeout: 5) }
        XCTAssertTrue(SpoolSandbox.waitUntil { self.sandbox.audit("started").count == 1 })
        try Data("{ not json".utf8).write(to: sandbox.config.appendingPathComponent("clients.json"))
        running.signal(SIGHUP)
        XCTAssertTrue(SpoolSandbox.waitUntil { self.sandbox.audit("config_rejected").count == 1 })
        let rejected = try XCTUnwrap(sandbox.audit("config_rejected").first)
        XCTAssertTrue((rejected["message"] as? String ?? "").contains("clients.json"), "\(rejected)")

        try sandbox.drop("after.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/after"))
        XCTAssertTrue(SpoolSandbox.waitUntil { self.sandbox.jobs(in: "delivered") == ["after.json"] }, "the old registry is still in force")
        running.signal(SIGTERM)
        XCTAssertEqual(running.wait(timeout: 20), 0)
    }

    func testSighupReopensTheAuditLogAfterRotation() throws {
        try makeSandbox()
        let running = try sandbox.startRun()
        defer { running.signal(SIGKILL); running.wait(timeout: 5) }
        XCTAssertTrue(SpoolSandbox.waitUntil { self.sandbox.audit("started").count == 1 })
        let rotated = sandbox.spool.appendingPathComponent("audit.jsonl.1")
        try FileManager.default.moveItem(at: sandbox.auditLog, to: rotated)
        running.signal(SIGHUP)
        XCTAssertTrue(SpoolSandbox.waitUntil { self.sandbox.audit("config_reloaded").count == 1 }, "a new audit.jsonl is written")
        let old = try String(contentsOf: rotated, encoding: .utf8)
        XCTAssertTrue(old.contains("\"started\""))
        XCTAssertFalse(old.contains("config_reloaded"))
    }

    /// Marks the sandbox's client record inactive in clients.json and sends SIGHUP; returns once
    /// the reload is in the audit log.
    private func deactivateTheClientAndReload(_ running: OutboundProcess) throws {
        let clientsURL = sandbox.config.appendingPathComponent("clients.json")
        let text = try String(contentsOf: clientsURL, encoding: .utf8)
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        var clients = try XCTUnwrap(object["clients"] as? [[String: Any]])
        clients[0]["status"] = "inactive"
        object["clients"] = clients
        try JSONSerialization.data(withJSONObject: object).write(to: clientsURL)
        running.signal(SIGHUP)
        XCTAssertTrue(SpoolSandbox.waitUntil { self.sandbox.audit("config_reloaded").count == 1 })
    }
}
