import Foundation
import OutboundTestSupport
import XCTest

/// Faults at the receiver end as the contract says, with attempts counted exactly: every
/// attempt the audit log counts is a request the server saw, and no more.
final class ReceiverFaultTests: IntegrationTestCase {
    func testATimeoutAfterA2xxStatusLineIsDeliveryNotARetry() throws {
        try makeSandbox(serverHandler: { _ in .slowBody(byteIntervalMs: 100) }, settings: ["timeoutMs": 400])
        try sandbox.drop("trickle.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/t"))
        try drain()
        XCTAssertEqual(server.requestCount, 1)
        assertJob("trickle.json", isIn: "delivered")
        let error = try XCTUnwrap(assertAudit("delivered", job: "trickle").first?["error"] as? String)
        XCTAssertTrue(error.hasPrefix("timeout") && error.hasSuffix("(after the status line)"), error)
    }

    func testA503StormThenRecoveryDeliversEveryJobWithExactAttemptCounts() throws {
        let stormEnds = Date().addingTimeInterval(1.0)
        try makeSandbox(serverHandler: { _ in Date() < stormEnds ? .respond(status: 503) : .respond(status: 204) }, settings: [
            "retry": ["maxAttempts": 12, "baseDelayMs": 100, "maxDelayMs": 400, "maxAgeSeconds": 3600],
        ])
        let count = 20
        for index in 0..<count {
            try sandbox.drop("storm-\(index).json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/\(index)"))
        }
        try drain()
        XCTAssertEqual(sandbox.jobs(in: "delivered").count, count)
        var requestsPerKey: [String: Int] = [:]
        for request in server.requests { requestsPerKey[request.header("Idempotency-Key") ?? "", default: 0] += 1 }
        for index in 0..<count {
            let job = "storm-\(index)"
            let delivered = try XCTUnwrap(sandbox.audit("delivered", job: job).first)
            let deferred = sandbox.audit("deferred", job: job)
            XCTAssertGreaterThanOrEqual(deferred.count, 1, "\(job) met the storm")
            XCTAssertEqual(delivered["attempt"] as? Int, requestsPerKey[job], "\(job): attempts counted exactly")
            XCTAssertEqual(deferred.count + 1, requestsPerKey[job])
            XCTAssertEqual(deferred.map { $0["attempt"] as? Int }, (1...deferred.count).map { $0 })
        }
    }
}

/// A name that cannot be resolved. Run inside a new, empty network namespace (`unshare -n`):
/// the lookup fails there without a single packet reaching the machine's resolver.
final class ResolveFailureTests: IntegrationTestCase {
    func testUnresolvableNameIsADNSErrorRetriedThenFailed() throws {
        try makeSandbox()
        try sandbox.writeClients(endpoint: "http://unresolvable.invalid/hooks/")
        try sandbox.drop("nowhere.json", job: SpoolSandbox.job(url: "http://unresolvable.invalid/hooks/x"))

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        process.arguments = ["-n", OutboundProcess.binaryURL.path, "drain", "--spool", sandbox.spool.path, "--config", sandbox.config.path]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(process.terminationStatus, 0, "unshare -n needs root (CI and the dev machines run as root): \(stderr)")

        let sidecar = try XCTUnwrap(sandbox.reason(of: "nowhere.json", in: "failed"), sandbox.auditText)
        XCTAssertEqual(sidecar["reason"] as? String, "retries_exhausted")
        XCTAssertEqual(sidecar["attempts"] as? Int, 3)
        XCTAssertTrue((sidecar["error"] as? String ?? "").hasPrefix("dns:"), "\(sidecar)")
        let deferred = sandbox.audit("deferred", job: "nowhere")
        XCTAssertEqual(deferred.map { $0["attempt"] as? Int }, [1, 2])
        XCTAssertTrue(deferred.allSatisfy { ($0["error"] as? String ?? "").hasPrefix("dns:") })
    }
}
