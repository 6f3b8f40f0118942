import Foundation
import OutboundTestSupport
import XCTest

/// Issue 11's file-descriptor rule, with the kernel's own limit: a `concurrency` the open-file
/// limit cannot cover is lowered at start and said so, and a drain under that limit files
/// every job, strands none and counts what is on disk.
final class DescriptorLimitTests: IntegrationTestCase {
    private static let jobCount = 300

    func testConcurrencyAboveTheOpenFileLimitIsLoweredAndEveryJobIsFiled() throws {
        // A slow answer keeps as many transfers in flight as the process allows.
        try makeSandbox(serverHandler: { request in
            request.path.contains("/fail/") ? .respond(status: 400) : .respondAfter(milliseconds: 40, status: 204)
        }, settings: ["concurrency": 300, "perHostConcurrency": 300])
        for index in 0..<Self.jobCount {
            let kind = index % 10 == 4 ? "fail" : "ok"
            try sandbox.drop(String(format: "fd-%03d.json", index), job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/\(kind)/\(index)"))
        }

        // Soft and hard limit 200: the process cannot raise it to cover 300 sockets.
        let result = try sandbox.drain(launcher: ["/usr/bin/prlimit", "--nofile=200:200"], timeout: 120)

        XCTAssertEqual(result.status, 0, "drain exit status; stderr: \(result.standardError.prefix(1500))")
        XCTAssertTrue(result.standardError.contains("concurrency lowered from 300 to"), "stderr says so: \(result.standardError.prefix(1500))")
        let started = sandbox.audit("started").first?["message"] as? String ?? ""
        XCTAssertTrue(started.contains("concurrency lowered from 300 to"), "the started line says so: \(started)")
        for folder in ["incoming", "active", "deferred", "tmp", "corrupt", "refused"] {
            XCTAssertEqual(sandbox.jobs(in: folder), [], "nothing left in \(folder)/")
        }
        let delivered = sandbox.jobs(in: "delivered").count
        let failed = sandbox.jobs(in: "failed").count
        XCTAssertEqual(delivered, 270)
        XCTAssertEqual(failed, 30)
        XCTAssertEqual(sandbox.audit("spool_error").count, 0, "no spool syscall failed: \(sandbox.audit("spool_error").prefix(3))")
        XCTAssertTrue(result.standardOutput.contains("delivered=\(delivered) failed=\(failed) refused=0 corrupt=0 still_deferred=0"),
                      "the summary counts what is on disk: \(result.standardOutput)")
        XCTAssertEqual(server.requestCount, Self.jobCount, "each job was sent once")
    }

    func testAReloadDoesNotLiftConcurrencyPastTheOpenFileLimit() throws {
        try makeSandbox(serverHandler: { _ in .respondAfter(milliseconds: 40, status: 204) },
                        settings: ["concurrency": 300, "perHostConcurrency": 300])
        // prlimit execs the binary: the signals reach `outbound` itself.
        let run = try sandbox.startRun(launcher: ["/usr/bin/prlimit", "--nofile=200:200"])
        XCTAssertTrue(SpoolSandbox.waitUntil { self.sandbox.audit("started").count == 1 }, "started")
        run.signal(SIGHUP)
        XCTAssertTrue(SpoolSandbox.waitUntil { self.sandbox.audit("config_reloaded").count == 1 }, "reloaded: \(sandbox.auditText)")
        let reloaded = sandbox.audit("config_reloaded").first?["message"] as? String ?? ""
        XCTAssertTrue(reloaded.contains("concurrency lowered from 300 to"), "the config_reloaded line says so: \(reloaded)")

        // Written in tmp/ first, then renamed into incoming/ in one go: they arrive together.
        let tmp = sandbox.spool.appendingPathComponent("tmp")
        let incoming = sandbox.spool.appendingPathComponent("incoming")
        let names = (0..<Self.jobCount).map { String(format: "hup-%03d.json", $0) }
        for (index, name) in names.enumerated() {
            let job = SpoolSandbox.job(url: "\(server.baseURL)/hooks/\(index)")
            try JSONSerialization.data(withJSONObject: job).write(to: tmp.appendingPathComponent(name))
        }
        for name in names {
            XCTAssertEqual(rename(tmp.appendingPathComponent(name).path, incoming.appendingPathComponent(name).path), 0)
        }
        XCTAssertTrue(SpoolSandbox.waitUntil(timeout: 60) { self.sandbox.jobs(in: "delivered").count == Self.jobCount || !run.isRunning },
                      "all delivered; spool_error lines: \(sandbox.audit("spool_error").prefix(3))")
        XCTAssertTrue(run.isRunning, "still running")
        run.signal(SIGTERM)
        XCTAssertEqual(run.wait(timeout: 30), 0, "a clean stop; stderr: \(run.standardError.prefix(1500))")
        XCTAssertEqual(sandbox.audit("spool_error").count, 0, "no spool syscall failed: \(sandbox.audit("spool_error").prefix(3))")
        for folder in ["incoming", "active", "deferred"] {
            XCTAssertEqual(sandbox.jobs(in: folder), [], "nothing left in \(folder)/")
        }
        XCTAssertEqual(server.requestCount, Self.jobCount, "each job was sent once")
    }
}
