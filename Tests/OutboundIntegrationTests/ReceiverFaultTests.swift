import Foundation
import OutboundTestSupport
import XCTest

/// Faults at the receiver end as the contract says, with attempts counted exactly: every
/// attempt the audit log counts is a request the server saw, and no more.
final class ReceiverFaultTests: IntegrationTestCase {
    func testSlowBodyPastTheTimeoutIsATimeoutAndRetried() throws {
        try makeSandbox(serverHandler: { _ in .slowBody(byteIntervalMs: 100) }, settings: ["timeoutMs": 400])
        try sandbox.drop("trickle.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/t"))
        try drain()
        XCTAssertEqual(server.requestCount, 3)
        let sidecar = try XCTUnwrap(sandbox.reason(of: "trickle.json", in: "failed"))
        XCTAssertEqual(sidecar["reason"] as? String, "retries_exhausted")
        XCTAssertEqual(sidecar["attempts"] as? Int, 3)
        XCTAssertTrue((sidecar["error"] as? String ?? "").hasPrefix("timeout"), "\(sidecar)")
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
