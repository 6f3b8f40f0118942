import Foundation
import OutboundTestSupport
import XCTest

/// Contract section 7: the classification table, backoff, Retry-After, limits and expiry.
final class RetryTests: IntegrationTestCase {
    func testFailuresThenSuccessAreRetriedWithTheSameIdempotencyKey() throws {
        try makeSandbox(serverHandler: Responders.failThenSucceed(failures: 2, failureStatus: 503), settings: [
            "retry": ["maxAttempts": 5, "baseDelayMs": 100, "maxDelayMs": 1000, "maxAgeSeconds": 3600],
        ])
        try sandbox.drop("flaky.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/flaky"))
        try drain()

        assertJob("flaky.json", isIn: "delivered")
        XCTAssertEqual(server.requestCount, 3)
        XCTAssertEqual(Set(server.requests.map { $0.header("Idempotency-Key") ?? "" }), ["flaky"])
        let deferred = assertAudit("deferred", job: "flaky", count: 2)
        XCTAssertEqual(deferred.map { $0["attempt"] as? Int }, [1, 2])
        XCTAssertEqual(deferred.map { $0["status"] as? Int }, [503, 503])
        XCTAssertNotNil(deferred.first?["nextAttemptAt"] as? String)
        XCTAssertEqual(assertAudit("delivered", job: "flaky").first?["attempt"] as? Int, 3)
        // Backoff: the second attempt came at least baseDelay × 0.8 after the first.
        let times = server.requests.map(\.receivedAt)
        XCTAssertGreaterThanOrEqual(times[1].timeIntervalSince(times[0]), 0.08)
        XCTAssertGreaterThanOrEqual(times[2].timeIntervalSince(times[1]), 0.16)
    }

    func testEveryRetryableStatusIsRetried() throws {
        for status in [408, 425, 429, 500, 502, 503, 504] {
            try makeSandbox(serverHandler: Responders.failThenSucceed(failures: 1, failureStatus: status))
            try sandbox.drop("s\(status).json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/s"))
            try drain()
            XCTAssertEqual(server.requestCount, 2, "status \(status) is retried")
            assertJob("s\(status).json", isIn: "delivered")
            server.stop()
        }
    }

    func testPermanentStatusFailsAtOnce() throws {
        try makeSandbox(serverHandler: { _ in .respond(status: 404) })
        try sandbox.drop("gone.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/gone"))
        try drain()
        assertJob("gone.json", isIn: "failed")
        XCTAssertEqual(server.requestCount, 1)
        let sidecar = try XCTUnwrap(sandbox.reason(of: "gone.json", in: "failed"))
        XCTAssertEqual(sidecar["reason"] as? String, "http_status")
        XCTAssertEqual(sidecar["status"] as? Int, 404)
        XCTAssertEqual(sidecar["attempts"] as? Int, 1)
        let line = assertAudit("failed", job: "gone").first
        XCTAssertEqual(line?["reason"] as? String, "http_status")
        XCTAssertEqual(line?["status"] as? Int, 404)
    }

    /// A failed job whose name failed/ already holds gets a `~N` name with its sidecar, and its
    /// line names the file it got, so an operator reading the log finds it.
    func testAFailedJobFiledUnderAClashNameIsNamedSoInItsLine() throws {
        try makeSandbox(serverHandler: { _ in .respond(status: 404) })
        try sandbox.drop("gone.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/first"))
        try drain()
        try sandbox.drop("gone.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/second"))
        try drain()
        XCTAssertEqual(sandbox.jobs(in: "failed"), ["gone.json", "gone~1.json"])
        let second = try String(contentsOf: sandbox.spool.appendingPathComponent("failed/gone~1.json"), encoding: .utf8)
        XCTAssertTrue(second.contains("second"))
        XCTAssertEqual(sandbox.reason(of: "gone~1.json", in: "failed")?["status"] as? Int, 404)
        XCTAssertEqual(assertAudit("failed", job: "gone", count: 2).compactMap { $0["file"] as? String }, ["gone.json", "gone~1.json"])
    }

    func testRedirectIsNotFollowedAndFails() throws {
        try makeSandbox(serverHandler: Responders.redirect(to: "http://127.0.0.1:1/elsewhere"))
        try sandbox.drop("moved.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/moved"))
        try drain()
        XCTAssertEqual(server.requestCount, 1)
        XCTAssertEqual(sandbox.reason(of: "moved.json", in: "failed")?["reason"] as? String, "http_status")
        XCTAssertEqual(sandbox.reason(of: "moved.json", in: "failed")?["status"] as? Int, 302)
    }

    func testRetriesExhaustedAfterMaxAttempts() throws {
        try makeSandbox(serverHandler: { _ in .respond(status: 500) })
        try sandbox.drop("down.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/down"))
        try drain()
        XCTAssertEqual(server.requestCount, 3, "maxAttempts 3 in the sandbox settings")
        let sidecar = try XCTUnwrap(sandbox.reason(of: "down.json", in: "failed"))
        XCTAssertEqual(sidecar["reason"] as? String, "retries_exhausted")
        XCTAssertEqual(sidecar["attempts"] as? Int, 3)
        XCTAssertEqual(sidecar["status"] as? Int, 500)
        assertAudit("deferred", job: "down", count: 2)
    }

    func testJobMaxAttemptsLowersButNeverRaisesTheLimit() throws {
        try makeSandbox(serverHandler: { _ in .respond(status: 503) })
        try sandbox.drop("low.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/low", extra: ["maxAttempts": 1]))
        try sandbox.drop("high.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/high", extra: ["maxAttempts": 50]))
        try drain()
        XCTAssertEqual(server.requests.filter { $0.target == "/hooks/low" }.count, 1)
        XCTAssertEqual(server.requests.filter { $0.target == "/hooks/high" }.count, 3)
    }

    func testRetryAfterSecondsIsHonoured() throws {
        try makeSandbox(serverHandler: Responders.failThenSucceed(failures: 1, failureStatus: 429, retryAfter: "1"), settings: [
            "retry": ["maxAttempts": 3, "baseDelayMs": 10, "maxDelayMs": 5000, "maxAgeSeconds": 3600],
        ])
        try sandbox.drop("slowdown.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/s"))
        try drain()
        assertJob("slowdown.json", isIn: "delivered")
        let times = server.requests.map(\.receivedAt)
        XCTAssertEqual(times.count, 2)
        XCTAssertGreaterThanOrEqual(times[1].timeIntervalSince(times[0]), 0.95, "waited the server's Retry-After, not baseDelayMs")
    }

    /// A drain watches no folder (inotify is for `run`), yet a job dropped while it waits
    /// out a deferred job's backoff is delivered by that drain: it takes one more pass over
    /// incoming/ before it ends, instead of leaving the newcomer for the next drain.
    func testAJobDroppedWhileADrainWaitsOnABackoffIsDeliveredByThatDrain() throws {
        let early = Responders.failThenSucceed(failures: 1, failureStatus: 503, retryAfter: "1")
        try makeSandbox(serverHandler: { $0.path == "/hooks/early" ? early($0) : .respond(status: 204) }, settings: [
            "retry": ["maxAttempts": 3, "baseDelayMs": 10, "maxDelayMs": 5000, "maxAgeSeconds": 3600],
        ])
        try sandbox.drop("early.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/early"))
        let draining = try OutboundProcess(["drain", "--spool", sandbox.spool.path, "--config", sandbox.config.path])
        defer { if draining.isRunning { draining.signal(SIGKILL); _ = draining.wait(timeout: 5) } }
        XCTAssertTrue(server.waitForRequests(1, timeout: 10), "the first attempt, answered 503 Retry-After: 1")
        usleep(300_000)
        XCTAssertTrue(draining.isRunning, "the drain is waiting out the backoff")
        try sandbox.drop("late.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/late"))
        XCTAssertEqual(draining.wait(timeout: 30), 0, draining.standardError)
        XCTAssertEqual(sandbox.jobs(in: "delivered"), ["early.json", "late.json"])
        XCTAssertEqual(sandbox.jobs(in: "incoming"), [])
        XCTAssertEqual(server.requests.filter { $0.target == "/hooks/late" }.count, 1)
        XCTAssertTrue(draining.standardOutput.contains("delivered=2"), draining.standardOutput)
    }

    func testRetryAfterHTTPDateIsHonoured() throws {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let when = formatter.string(from: Date().addingTimeInterval(2))
        try makeSandbox(serverHandler: Responders.failThenSucceed(failures: 1, failureStatus: 503, retryAfter: when), settings: [
            "retry": ["maxAttempts": 3, "baseDelayMs": 10, "maxDelayMs": 10000, "maxAgeSeconds": 3600],
        ])
        try sandbox.drop("dated.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/d"))
        try drain()
        assertJob("dated.json", isIn: "delivered")
        let times = server.requests.map(\.receivedAt)
        XCTAssertEqual(times.count, 2)
        XCTAssertGreaterThanOrEqual(times[1].timeIntervalSince(times[0]), 0.9)
    }

    func testRetryAfterIsCappedAtMaxDelay() throws {
        try makeSandbox(serverHandler: Responders.failThenSucceed(failures: 1, failureStatus: 503, retryAfter: "3600"), settings: [
            "retry": ["maxAttempts": 3, "baseDelayMs": 10, "maxDelayMs": 300, "maxAgeSeconds": 3600],
        ])
        try sandbox.drop("capped.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/c"))
        let started = Date()
        try drain()
        assertJob("capped.json", isIn: "delivered")
        XCTAssertLessThan(Date().timeIntervalSince(started), 20, "an hour's Retry-After is capped at maxDelayMs")
    }

    func testTimeoutIsRetriedAndRecordedAsATimeout() throws {
        try makeSandbox(serverHandler: { _ in .respondAfter(milliseconds: 1500, status: 204) }, settings: ["timeoutMs": 300])
        try sandbox.drop("slow.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/slow"))
        try drain()
        XCTAssertEqual(server.requestCount, 3)
        let sidecar = try XCTUnwrap(sandbox.reason(of: "slow.json", in: "failed"))
        XCTAssertEqual(sidecar["reason"] as? String, "retries_exhausted")
        XCTAssertTrue((sidecar["error"] as? String ?? "").hasPrefix("timeout"), "\(sidecar)")
        XCTAssertTrue(sandbox.audit("deferred", job: "slow").allSatisfy { ($0["error"] as? String ?? "").hasPrefix("timeout") })
    }

    func testJobTimeoutLowersTheConfiguredOne() throws {
        try makeSandbox(serverHandler: { _ in .respondAfter(milliseconds: 800, status: 204) }, settings: ["timeoutMs": 5000])
        try sandbox.drop("quick.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/q", extra: ["timeoutMs": 200, "maxAttempts": 1]))
        try drain()
        XCTAssertEqual(sandbox.reason(of: "quick.json", in: "failed")?["reason"] as? String, "retries_exhausted")
    }

    func testClosedAndResetConnectionsWithoutAResponseAreRetried() throws {
        for (name, action) in [("closed", ServerAction.closeWithoutResponse), ("reset", .reset)] {
            try makeSandbox(serverHandler: { _ in action })
            try sandbox.drop("\(name).json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/\(name)"))
            try drain()
            XCTAssertEqual(server.requestCount, 3, "\(name) is retried up to maxAttempts")
            let sidecar = sandbox.reason(of: "\(name).json", in: "failed")
            XCTAssertEqual(sidecar?["reason"] as? String, "retries_exhausted", name)
            XCTAssertNotNil(sidecar?["error"] as? String, name)
            server.stop()
        }
    }

    func testATruncated200IsDeliveredWithHowItEnded() throws {
        try makeSandbox(serverHandler: { _ in .truncatedResponse })
        try sandbox.drop("truncated.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/t"))
        try drain()
        XCTAssertEqual(server.requestCount, 1)
        assertJob("truncated.json", isIn: "delivered")
        let error = try XCTUnwrap(assertAudit("delivered", job: "truncated").first?["error"] as? String)
        XCTAssertTrue(error.hasSuffix("(after the status line)"), error)
    }

    func testRefusedPortIsAConnectErrorAndRetried() throws {
        try makeSandbox()
        let closedPort = server.port
        server.stop()
        try sandbox.drop("refused-port.json", job: SpoolSandbox.job(url: "http://127.0.0.1:\(closedPort)/hooks/x"))
        try drain()
        let sidecar = try XCTUnwrap(sandbox.reason(of: "refused-port.json", in: "failed"))
        XCTAssertEqual(sidecar["reason"] as? String, "retries_exhausted")
        XCTAssertTrue((sidecar["error"] as? String ?? "").hasPrefix("connect"), "\(sidecar)")
        XCTAssertEqual(sandbox.audit("deferred", job: "refused-port").count, 2)
    }

    func testNotAfterInThePastExpiresWithoutSending() throws {
        try makeSandbox()
        try sandbox.drop("late.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/late", extra: ["notAfter": "2020-01-01T00:00:00Z"]))
        try drain()
        XCTAssertEqual(server.requestCount, 0)
        XCTAssertEqual(sandbox.reason(of: "late.json", in: "failed")?["reason"] as? String, "expired")
        XCTAssertEqual(assertAudit("failed", job: "late").first?["reason"] as? String, "expired")
    }

    func testMaxAgeExpiresARetryingJob() throws {
        try makeSandbox(serverHandler: { _ in .respond(status: 503) }, settings: [
            "retry": ["maxAttempts": 50, "baseDelayMs": 400, "maxDelayMs": 2000, "maxAgeSeconds": 1],
        ])
        try sandbox.drop("aging.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/a"))
        try drain()
        XCTAssertEqual(sandbox.reason(of: "aging.json", in: "failed")?["reason"] as? String, "expired")
        XCTAssertLessThan(server.requestCount, 5)
    }

    func testDeferredJobSurvivesARestartWithItsAttemptCount() throws {
        let failing = FlagBox(true)
        try makeSandbox(serverHandler: { _ in failing.value ? .respond(status: 503) : .respond(status: 204) }, settings: [
            "retry": ["maxAttempts": 5, "baseDelayMs": 300, "maxDelayMs": 300, "maxAgeSeconds": 3600],
        ])
        try sandbox.drop("survivor.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/s"))
        let first = try drain(["--max-wait", "0.1"], expect: 75)
        XCTAssertTrue(first.standardOutput.contains("still_deferred=1"), first.standardOutput)
        assertJob("survivor.json", isIn: "deferred")
        XCTAssertEqual(server.requestCount, 1)

        failing.value = false
        try drain()
        assertJob("survivor.json", isIn: "delivered")
        XCTAssertEqual(assertAudit("delivered", job: "survivor").first?["attempt"] as? Int, 2, "the attempt count carried over")
        XCTAssertEqual(server.requestCount, 2)
    }

    /// `--max-wait` is only for jobs left deferred: a transfer still running when it passes
    /// is waited for, asleep. (The loop once took the past moment as its next wake-up and
    /// polled without sleeping: a whole core until the transfer ended.)
    func testADrainPastItsMaxWaitSleepsUntilItsTransferEnds() throws {
        try makeSandbox(serverHandler: { _ in .respondAfter(milliseconds: 2500, status: 204) })
        try sandbox.drop("slow.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/slow"))
        var before = rusage()
        getrusage(RUSAGE_CHILDREN.rawValue, &before)
        let started = Date()
        try drain(["--max-wait", "0.2"])
        let elapsed = Date().timeIntervalSince(started)
        var after = rusage()
        getrusage(RUSAGE_CHILDREN.rawValue, &after)
        assertJob("slow.json", isIn: "delivered")
        XCTAssertGreaterThanOrEqual(elapsed, 2.5, "the drain waited for the answer")
        let cpu = Self.seconds(after.ru_utime) + Self.seconds(after.ru_stime) - Self.seconds(before.ru_utime) - Self.seconds(before.ru_stime)
        XCTAssertLessThan(cpu, 0.8, "CPU seconds over a \(elapsed) s drain that waited 2.3 s past --max-wait")
    }

    private static func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1_000_000 }
}

/// A Bool shared with a server handler thread.
final class FlagBox: @unchecked Sendable {
    // @unchecked: `stored` is only touched under `lock`.
    private let lock = NSLock()
    private var stored: Bool
    init(_ value: Bool) { stored = value }
    var value: Bool {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
}
