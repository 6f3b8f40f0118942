import Foundation
import OutboundTestSupport
import XCTest

/// Contract section 8: the audit log and sidecars never hold body bytes, header values other
/// than the client ID, query strings or userinfo; every line is one whole JSON object.
final class AuditHygieneTests: IntegrationTestCase {
    private let canaries = ["CANARY-BODY-7f3a", "CANARY-AUTH-91bc", "CANARY-QUERY-55de", "CANARY-HEADER-0a1b", "CANARY-PASS-e4e4"]

    func testNoSecretOrPayloadReachesTheAuditLogOrSidecars() throws {
        try makeSandbox(serverHandler: { request in
            request.target.contains("/fail") ? .respond(status: 400) : (request.target.contains("/retry") ? .respond(status: 503) : .respond(status: 204))
        })
        let headers = ["Authorization": "Bearer CANARY-AUTH-91bc", "X-Patient": "CANARY-HEADER-0a1b"]
        let body = "{\"note\":\"CANARY-BODY-7f3a\"}"
        for path in ["ok", "fail", "retry"] {
            try sandbox.drop("\(path).json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/\(path)?secret=CANARY-QUERY-55de",
                                                                  body: body, extra: ["headers": headers]))
        }
        // Refused and corrupt jobs carrying the same secrets.
        try sandbox.drop("refused.json", job: ["clientId": SpoolSandbox.inactiveClient, "url": "\(server.baseURL)/hooks/r?secret=CANARY-QUERY-55de",
                                               "body": body, "headers": headers])
        try sandbox.drop("corrupt.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/c?secret=CANARY-QUERY-55de", body: body,
                                                               extra: ["headers": ["Connection": "CANARY-HEADER-0a1b"]]))
        try sandbox.drop("userinfo.json", job: SpoolSandbox.job(url: "http://user:CANARY-PASS-e4e4@127.0.0.1:\(server.port)/hooks/u", body: body))
        let result = try drain()

        XCTAssertEqual(sandbox.jobs(in: "delivered"), ["ok.json"])
        XCTAssertEqual(sandbox.jobs(in: "failed"), ["fail.json", "retry.json"])
        XCTAssertEqual(sandbox.jobs(in: "refused"), ["refused.json"])
        XCTAssertEqual(sandbox.jobs(in: "corrupt"), ["corrupt.json", "userinfo.json"])
        // The secrets did go to the server (proving the canaries were live)...
        XCTAssertTrue(server.requests.contains { $0.bodyText.contains("CANARY-BODY-7f3a") && $0.target.contains("CANARY-QUERY-55de") })
        // ...and appear nowhere in what operators read.
        var texts = [sandbox.auditText, result.standardOutput, result.standardError]
        for folder in ["failed", "refused", "corrupt"] {
            for name in sandbox.jobs(in: folder) {
                texts.append((try? String(contentsOf: sandbox.spool.appendingPathComponent(folder).appendingPathComponent("\(name).reason"), encoding: .utf8)) ?? "MISSING SIDECAR")
            }
        }
        for text in texts {
            XCTAssertFalse(text.contains("MISSING SIDECAR"))
            for canary in canaries {
                XCTAssertFalse(text.contains(canary), "\(canary) leaked into: \(text)")
            }
        }
        XCTAssertTrue(sandbox.auditText.contains(SpoolSandbox.activeClient), "the client ID is the one header value logged")
    }

    func testEveryAuditLineIsOneJSONObjectWithTimestampAndEvent() throws {
        try makeSandbox()
        _ = try sandbox.replay(fixtureSet: "mixed", baseURL: server.baseURL)
        try drain()
        let raw = sandbox.auditText
        XCTAssertTrue(raw.hasSuffix("\n"))
        let lines = raw.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        XCTAssertGreaterThanOrEqual(lines.count, 8)
        let known: Set<String> = ["started", "stopped", "recovered", "accepted", "refused", "corrupt", "delivered", "deferred", "failed",
                                  "config_reloaded", "config_rejected"]
        for line in lines {
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], String(line))
            let ts = try XCTUnwrap(object["ts"] as? String)
            XCTAssertNotNil(ts.range(of: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"#, options: .regularExpression), ts)
            XCTAssertTrue(known.contains(object["event"] as? String ?? ""), String(line))
        }
        let started = try XCTUnwrap(sandbox.audit("started").first)
        XCTAssertNotNil(started["pid"] as? Int)
        XCTAssertEqual(started["version"] as? String, "0.1.0")
        XCTAssertEqual(sandbox.audit("stopped").count, 1)
    }

    func testAuditLineIsOnDiskBeforeTheJobIsInItsFolder() throws {
        // Watch from outside: whenever a job is seen in delivered/, its audit line is already there.
        try makeSandbox()
        for index in 0..<30 {
            try sandbox.drop("order-\(index).json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/\(index)"))
        }
        let running = try OutboundProcess(["drain", "--spool", sandbox.spool.path, "--config", sandbox.config.path])
        var violations: [String] = []
        while running.isRunning {
            let delivered = sandbox.jobs(in: "delivered")
            let audit = sandbox.auditText
            for name in delivered where !audit.contains("\"event\":\"delivered\",\"job\":\"\(name.dropLast(5))\"") {
                violations.append(name)
            }
            usleep(1000)
        }
        XCTAssertEqual(running.wait(timeout: 30), 0)
        XCTAssertEqual(violations, [])
        XCTAssertEqual(sandbox.jobs(in: "delivered").count, 30)
    }
}
