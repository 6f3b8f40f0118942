import Foundation
import OutboundTestSupport
import XCTest

/// The audit tells the truth about the wire (contract sections 7 and 8): every request the
/// receiver saw is counted in `sends`, libcurl resends at most once per attempt, and a 2xx
/// status line is delivery whatever the rest of the response does.
final class WireTruthTests: IntegrationTestCase {
    /// Outcome lines (`delivered`, `deferred`, `failed`) of one job.
    private func outcomeLines(of job: String) -> [[String: Any]] {
        ["delivered", "deferred", "failed"].flatMap { sandbox.audit($0, job: job) }
    }

    func testResendsAfterAResetOnAReusedConnectionAreCountedAndBoundedToOnePerAttempt() throws {
        // The receiver reads the POST to /hooks/reset and resets; the 20 other jobs leave
        // live keep-alive connections in the pool, which libcurl would resend over.
        try makeSandbox(serverHandler: Responders.byPath(["/hooks/reset": .reset], default: .respond(status: 200)), settings: [
            "retry": ["maxAttempts": 3, "baseDelayMs": 100, "maxDelayMs": 200, "maxAgeSeconds": 3600],
        ])
        for index in 0..<20 {
            try sandbox.drop(String(format: "a-%02d.json", index), job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/ok\(index)"))
        }
        try sandbox.drop("z-reset.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/reset"))
        try drain()
        XCTAssertEqual(sandbox.jobs(in: "delivered").count, 20)
        assertJob("z-reset.json", isIn: "failed")
        let seen = server.requests.filter { $0.path == "/hooks/reset" }.count
        let lines = outcomeLines(of: "z-reset")
        XCTAssertEqual(lines.count, 3, sandbox.auditText)
        let counted = lines.reduce(0) { $0 + (($1["sends"] as? Int) ?? 1) }
        XCTAssertEqual(seen, counted, "requests seen = sum of sends: \(sandbox.auditText)")
        XCTAssertLessThanOrEqual(seen, 2 * lines.count, "at most one silent resend per attempt")
        XCTAssertTrue(lines.contains { ($0["sends"] as? Int) == 2 }, "a reused connection's reset was resent once: \(sandbox.auditText)")
        XCTAssertTrue(lines.allSatisfy { ($0["error"] as? String ?? "").hasPrefix("reset") }, sandbox.auditText)
        for line in sandbox.audit("delivered") { XCTAssertNil(line["sends"], "a single send writes no sends field") }
    }

    func testA200WithAnEndlessBodyIsDeliveredOnceAndNotResent() throws {
        try makeSandbox(serverHandler: { _ in .endlessBody(status: 200) }, settings: ["timeoutMs": 20000])
        try sandbox.drop("endless.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/e"))
        let started = Date()
        try drain()
        assertJob("endless.json", isIn: "delivered")
        XCTAssertEqual(server.requestCount, 1)
        let line = try XCTUnwrap(assertAudit("delivered", job: "endless").first)
        XCTAssertEqual(line["status"] as? Int, 200)
        XCTAssertEqual(line["error"] as? String, "stopped reading: the response passed 65536 bytes")
        XCTAssertLessThan(Date().timeIntervalSince(started), 15, "stopped at the cap, not at the timeout")
    }

    func testA200WithAMegabyteOfHeadersIsDelivered() throws {
        try makeSandbox(serverHandler: { _ in .hugeHeaders(status: 200, bytes: 1 << 20) })
        try sandbox.drop("headers.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/h"))
        try drain()
        assertJob("headers.json", isIn: "delivered")
        XCTAssertEqual(server.requestCount, 1)
        let line = try XCTUnwrap(assertAudit("delivered", job: "headers").first)
        XCTAssertEqual(line["error"] as? String, "stopped reading: the response passed 65536 bytes")
    }

    func testA200ResetMidBodyIsDeliveredWithHowItEnded() throws {
        try makeSandbox(serverHandler: { _ in .resetMidBody(status: 200) })
        try sandbox.drop("cut.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/c"))
        try drain()
        assertJob("cut.json", isIn: "delivered")
        XCTAssertEqual(server.requestCount, 1)
        let error = try XCTUnwrap(assertAudit("delivered", job: "cut").first?["error"] as? String)
        XCTAssertTrue(error.hasPrefix("reset") && error.hasSuffix("(after the status line)"), error)
    }

    func testA503WithAnEndlessBodyIsStillRetried() throws {
        try makeSandbox(serverHandler: { _ in .endlessBody(status: 503) }, settings: [
            "timeoutMs": 20000, "retry": ["maxAttempts": 3, "baseDelayMs": 50, "maxDelayMs": 100, "maxAgeSeconds": 3600],
        ])
        try sandbox.drop("busy.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/b"))
        try drain()
        XCTAssertEqual(server.requestCount, 3)
        XCTAssertEqual(sandbox.reason(of: "busy.json", in: "failed")?["reason"] as? String, "retries_exhausted")
        let deferred = assertAudit("deferred", job: "busy", count: 2)
        XCTAssertTrue(deferred.allSatisfy { $0["status"] as? Int == 503 }, sandbox.auditText)
    }
}
