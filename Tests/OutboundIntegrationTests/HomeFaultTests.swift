import Foundation
import OutboundTestSupport
import XCTest

/// Faults on the dispatcher's own machine: an audit log that cannot be written, a config
/// folder that is broken or deleted while running. Nothing may be lost or sent unrecorded.
final class HomeFaultTests: IntegrationTestCase {
    func testAuditLogUnwritableAtStartSendsNothingAndExits74() throws {
        // /dev/full accepts the open and fails every write with ENOSPC: a full file system.
        try makeSandbox(settings: ["auditLog": "/dev/full"])
        for index in 0..<3 {
            try sandbox.drop("kept-\(index).json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/\(index)"))
        }
        let result = try drain(expect: 74)
        XCTAssertTrue(result.standardError.contains("audit log"), result.standardError)
        XCTAssertEqual(server.requestCount, 0, "nothing is sent that cannot be recorded")
        XCTAssertEqual(sandbox.jobs(in: "incoming"), ["kept-0.json", "kept-1.json", "kept-2.json"])
        XCTAssertEqual(sandbox.jobs(in: "active"), [])
    }

    func testAuditLogFailingWhileRunningStopsClaimingAndLosesNothing() throws {
        try makeSandbox()
        let running = try sandbox.startRun()
        defer { running.signal(SIGKILL); running.wait(timeout: 5) }
        try sandbox.drop("before.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/before"))
        XCTAssertTrue(SpoolSandbox.waitUntil { self.sandbox.jobs(in: "delivered") == ["before.json"] })

        // Point the audit log at a full "file system" and reload.
        try sandbox.writeSettings(["auditLog": "/dev/full"])
        running.signal(SIGHUP)
        let status = running.wait(timeout: 20)
        XCTAssertEqual(status, 74, running.standardError)
        XCTAssertTrue(running.standardError.contains("audit log"), running.standardError)

        try sandbox.drop("after.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/after"))
        usleep(300_000)
        XCTAssertEqual(server.requests.map(\.target), ["/hooks/before"], "nothing sent once the log could not be written")
        XCTAssertEqual(sandbox.jobs(in: "incoming"), ["after.json"])
        XCTAssertEqual(sandbox.jobs(in: "active"), [])
    }

    func testConfigDeletedWhileRunningKeepsTheOldOne() throws {
        try makeSandbox()
        let running = try sandbox.startRun()
        defer { running.signal(SIGKILL); running.wait(timeout: 5) }
        XCTAssertTrue(SpoolSandbox.waitUntil { self.sandbox.audit("started").count == 1 })
        try FileManager.default.removeItem(at: sandbox.config.appendingPathComponent("clients.json"))
        running.signal(SIGHUP)
        XCTAssertTrue(SpoolSandbox.waitUntil { self.sandbox.audit("config_rejected").count == 1 })
        let message = sandbox.audit("config_rejected").first?["message"] as? String ?? ""
        XCTAssertTrue(message.contains("clients.json") && message.contains("does not exist"), message)
        try sandbox.drop("still.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/still"))
        XCTAssertTrue(SpoolSandbox.waitUntil { self.sandbox.jobs(in: "delivered") == ["still.json"] })
        running.signal(SIGTERM)
        XCTAssertEqual(running.wait(timeout: 20), 0)
    }
}

/// A process killed mid-write can leave the audit log's last line cut short: the next process
/// cuts the fragment off and records it (contract 10), never glues its own line to it.
final class TornAuditLineTests: IntegrationTestCase {
    func testATornLastLineIsNeverGluedToTheNextProcesssFirstLine() throws {
        try makeSandbox()
        let fragment = "{\"ts\":\"2026-11-29T00:00:00.000Z\",\"event\":\"delivered\",\"job\":\"cut-sh"
        try Data(fragment.utf8).write(to: sandbox.auditLog)
        try sandbox.drop("after-tear.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/a"))
        try drain()
        let lines = sandbox.auditText.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertFalse(sandbox.auditText.contains(fragment), "the fragment is cut off")
        XCTAssertEqual(sandbox.audit("audit_repaired").first?["bytes"] as? Int, fragment.utf8.count, "and recorded")
        let rest = lines.filter { !$0.isEmpty }
        XCTAssertGreaterThanOrEqual(rest.count, 5)
        for line in rest {
            XCTAssertNotNil(try? JSONSerialization.jsonObject(with: Data(line.utf8)), "every line is whole JSON: \(line)")
        }
        XCTAssertEqual(sandbox.audit("started").count, 1)
    }
}
