import Foundation
import OutboundTestSupport
import XCTest

/// Several dispatchers on one spool: a claim is a rename, so each job goes out once.
final class MultiProcessTests: IntegrationTestCase {
    func testTwoDrainsOnOneSpoolDeliverEachJobExactlyOnce() throws {
        try makeSandbox(serverHandler: { _ in
            usleep(20_000)
            return .respond(status: 204)
        }, settings: ["concurrency": 4, "perHostConcurrency": 4])
        let count = 60
        for index in 0..<count {
            try sandbox.drop("shared-\(index).json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/\(index)"))
        }
        let first = try OutboundProcess(["drain", "--spool", sandbox.spool.path, "--config", sandbox.config.path])
        // Start the second while the first holds claims.
        XCTAssertTrue(server.waitForRequests(2, timeout: 10))
        XCTAssertFalse(sandbox.jobs(in: "active").isEmpty, "the first drain holds claims")
        let second = try OutboundProcess(["drain", "--spool", sandbox.spool.path, "--config", sandbox.config.path])
        XCTAssertEqual(first.wait(timeout: 60), 0, first.standardError)
        XCTAssertEqual(second.wait(timeout: 60), 0, second.standardError)

        XCTAssertEqual(sandbox.jobs(in: "delivered").count, count)
        XCTAssertEqual(server.requestCount, count, "each job sent exactly once")
        let keys = server.requests.compactMap { $0.header("Idempotency-Key") }
        XCTAssertEqual(Set(keys).count, count)
        XCTAssertEqual(sandbox.audit("delivered").count, count)
        XCTAssertEqual(sandbox.audit("recovered").count, 0, "a live process's claims are never recovered")
        XCTAssertEqual(sandbox.audit("started").count, 2)
    }
}

/// Three `outbound run` processes sharing one spool: every job delivered exactly once.
final class ThreeRunnersTests: IntegrationTestCase {
    func testThreeRunProcessesDeliverEachOfFiveThousandJobsExactlyOnce() throws {
        try makeSandbox(settings: ["concurrency": 16, "perHostConcurrency": 16])
        let runners = try (0..<3).map { _ in try sandbox.startRun() }
        defer { for runner in runners { runner.signal(SIGKILL); runner.wait(timeout: 5) } }
        XCTAssertTrue(SpoolSandbox.waitUntil { self.sandbox.audit("started").count == 3 })
        let count = 5000
        for index in 0..<count {
            try sandbox.drop(String(format: "many-%05d.json", index), job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/\(index)"))
        }
        XCTAssertTrue(SpoolSandbox.waitUntil(timeout: 120) { self.sandbox.jobs(in: "delivered").count == count },
                      "delivered \(sandbox.jobs(in: "delivered").count) of \(count)")
        for runner in runners { runner.signal(SIGTERM) }
        for runner in runners { XCTAssertEqual(runner.wait(timeout: 30), 0, runner.standardError) }

        XCTAssertEqual(server.requestCount, count, "each job sent exactly once")
        XCTAssertEqual(Set(server.requests.compactMap { $0.header("Idempotency-Key") }).count, count)
        XCTAssertEqual(sandbox.audit("delivered").count, count)
        let pids = Set(sandbox.audit("started").compactMap { $0["pid"] as? Int })
        XCTAssertEqual(pids.count, 3)
        XCTAssertEqual(sandbox.audit("recovered").count, 0)
        XCTAssertEqual(sandbox.jobs(in: "incoming"), [])
        XCTAssertEqual(sandbox.jobs(in: "active"), [])
    }
}
