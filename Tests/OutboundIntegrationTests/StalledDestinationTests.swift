import Foundation
import OutboundTestSupport
import XCTest

/// A partner that accepts requests and never answers, with most of the backlog. Once none of
/// its transfers has ended for a quarter of `timeoutMs`, its new jobs stay in incoming/ and
/// the jobs waiting for it stop taking room in the claim window: the other partner's jobs go
/// then, not after the hung partner's attempts time out and its circuit opens.
final class StalledDestinationTests: IntegrationTestCase {
    func testAHungPartnersBacklogDoesNotHoldUpTheOtherPartner() throws {
        let hung = try LoopbackHTTPServer(handler: { _ in .respondAfter(milliseconds: 60_000, status: 204) })
        defer { hung.stop() }
        // Stalled after 3 s; its attempts would time out at 12 s.
        let healthy = try makeBacklog(hung: hung, timeoutMs: 12_000)

        let run = try sandbox.startRun(["--grace", "1"])
        defer { run.signal(SIGKILL) }
        // Well before the hung partner's 12 s timeout.
        XCTAssertTrue(SpoolSandbox.waitUntil(timeout: 8) { self.sandbox.jobs(in: "delivered").count == healthy.count },
                      "the healthy partner's 100 jobs go while the hung one holds its two transfers: "
                      + "\(sandbox.jobs(in: "delivered").count) delivered")
        XCTAssertEqual(sandbox.jobs(in: "delivered"), healthy)
        XCTAssertEqual(hung.requestCount, 2, "only its share went to the hung partner")
        XCTAssertEqual(server.requestCount, healthy.count)
        for event in ["failed", "deferred", "refused", "spool_error"] {
            XCTAssertEqual(sandbox.audit(event).count, 0, "no verdict and no fault: \(sandbox.audit(event).prefix(2))")
        }
        // Beyond what the window held when it stalled, the hung partner's jobs were left in
        // incoming/ before their accepted line: none of them is held in memory, none has two.
        XCTAssertGreaterThanOrEqual(sandbox.jobs(in: "incoming").count, 200 - 32, "left in incoming/")
        let accepted = sandbox.audit("accepted").compactMap { $0["file"] as? String }
        XCTAssertEqual(accepted.count, Set(accepted).count, "one accepted line per job at most")
        XCTAssertLessThanOrEqual(accepted.filter { !healthy.contains($0) }.count, 32, "accepted for the hung partner: at most a window")

        run.signal(SIGTERM)
        XCTAssertEqual(run.wait(timeout: 30), 0, "a clean stop; stderr: \(run.standardError.prefix(1500))")
        XCTAssertEqual(sandbox.jobs(in: "incoming").count, 200, "every job for the hung partner is back in incoming/")
        XCTAssertEqual(sandbox.jobs(in: "active"), [], "nothing left claimed")
        XCTAssertEqual(sandbox.jobs(in: "delivered"), healthy)
    }

    /// A claim window of 8 × 4 = 32 jobs, 2 transfers at a time to each partner; 300 jobs, two
    /// for `hung`, then one for the healthy partner, in name order: the first 32 claims alone
    /// would fill the window with 21 jobs that can only wait. Returns the healthy partner's
    /// job names.
    private func makeBacklog(hung: LoopbackHTTPServer, timeoutMs: Int) throws -> [String] {
        try makeSandbox(serverHandler: { _ in .respond(status: 204) },
                        settings: ["concurrency": 4, "perHostConcurrency": 2, "timeoutMs": timeoutMs, "retry": ["maxAttempts": 1]])
        try writeActiveClient(endpoints: ["\(hung.baseURL)/hooks/", "\(server.baseURL)/hooks/"])
        var healthy: [String] = []
        for index in 0..<300 {
            let name = String(format: "j-%03d.json", index)
            let toHung = index % 3 != 2
            try sandbox.drop(name, job: SpoolSandbox.job(url: "\(toHung ? hung.baseURL : server.baseURL)/hooks/\(index)"))
            if !toHung { healthy.append(name) }
        }
        return healthy
    }

    func testJobsLeftForAStalledPartnerAreClaimedOnceItMovesAgain() throws {
        // Its first two requests (the first two jobs) take 5 s; every later one is answered
        // at once. It stalls at 2 s, with its two transfers out, and moves again at 5 s.
        let slow = try LoopbackHTTPServer(handler: { request in
            request.path.hasSuffix("/0") || request.path.hasSuffix("/1") ? .respondAfter(milliseconds: 5_000, status: 204) : .respond(status: 204)
        })
        defer { slow.stop() }
        let healthy = try makeBacklog(hung: slow, timeoutMs: 8_000)

        let result = try sandbox.drain(timeout: 30)
        XCTAssertEqual(result.status, 0, "every job delivered; stderr: \(result.standardError.prefix(1500))")
        XCTAssertEqual(sandbox.jobs(in: "delivered").count, 300)
        XCTAssertEqual(slow.requestCount, 200, "each of its jobs sent once")
        XCTAssertEqual(server.requestCount, healthy.count)
        let accepted = sandbox.audit("accepted").compactMap { $0["file"] as? String }
        XCTAssertEqual(Set(accepted).count, 300)
        XCTAssertEqual(accepted.count, 300, "one accepted line per job: those left in incoming/ got theirs when claimed again")
        // The healthy partner's jobs went while the slow one was stalled, its own once it moved.
        let delivered = sandbox.audit("delivered")
        let lastHealthy = try XCTUnwrap(delivered.filter { healthy.contains($0["file"] as? String ?? "") }.compactMap { $0["ts"] as? String }.max())
        let slowAfterItMoved = delivered.filter { !healthy.contains($0["file"] as? String ?? "") }.compactMap { $0["ts"] as? String }.sorted()
        XCTAssertEqual(slowAfterItMoved.count, 200)
        XCTAssertLessThan(lastHealthy, slowAfterItMoved[0], "all 100 healthy jobs before the slow partner's first answer")
    }
}
