import XCTest
@testable import OutboundCore

/// Contract section 7: outcomes, the backoff schedule, Retry-After, attempt limits and expiry.
final class RetryPolicyTests: XCTestCase {
    /// 2001-09-09T01:46:40Z.
    private let now = 1_000_000_000.0
    /// Many attempts and a long age, so only the rule under test can end a job.
    private let roomy = RetrySettings(maxAttempts: 100, baseDelayMs: 1000, maxDelayMs: 600_000, maxAgeSeconds: 31_536_000)

    private func policy(_ settings: RetrySettings? = nil, jitter: Double = 1) -> RetryPolicy {
        RetryPolicy(settings: settings ?? roomy, jitter: FixedJitter(value: jitter))
    }

    private func job(maxAttempts: Int? = nil, notAfter: Double? = nil) throws -> Job {
        try Fixture.job(url: "https://acme.example/hooks/a", maxAttempts: maxAttempts, notAfter: notAfter)
    }

    private func outcome(_ result: AttemptResult, attempt: Int = 1, policy: RetryPolicy? = nil, job: Job? = nil,
                         firstClaimedAt: Double? = nil) throws -> Outcome {
        (policy ?? self.policy()).outcome(of: result, attempt: attempt, job: try job ?? self.job(),
                                          firstClaimedAt: firstClaimedAt ?? now, now: now)
    }

    private func status(_ code: Int, retryAfter: String? = nil) -> AttemptResult {
        .response(status: code, retryAfter: retryAfter)
    }

    // MARK: outcomes

    func test2xxIsDelivered() throws {
        for code in [200, 201, 202, 204, 299] {
            XCTAssertEqual(try outcome(status(code)), .delivered(status: code))
        }
    }

    func testEachRetryableStatusIsRetried() throws {
        for code in [408, 425, 429, 500, 502, 503, 504] {
            XCTAssertEqual(try outcome(status(code)), .retry(delayMs: 1000), "status \(code)")
        }
    }

    func testEachTransportErrorKindIsRetried() throws {
        for kind in [TransportError.Kind.dns, .connect, .tls, .timeout, .reset] {
            XCTAssertEqual(try outcome(.transportError(TransportError(kind: kind, detail: "x"))), .retry(delayMs: 1000), "\(kind)")
        }
    }

    func testOtherStatusesFailWithHttpStatus() throws {
        for code in [100, 300, 301, 302, 303, 304, 307, 308, 400, 401, 403, 404, 405, 409, 410, 413, 422, 426, 451, 501, 505, 511, 600] {
            XCTAssertEqual(try outcome(status(code)), .failed(.httpStatus), "status \(code)")
        }
    }

    func testNonRetryableStatusFailsEvenWithRetryAfter() throws {
        XCTAssertEqual(try outcome(status(301, retryAfter: "5")), .failed(.httpStatus))
    }

    // MARK: the schedule

    func testBackoffDoublesFromTheBaseDelay() throws {
        let expected = [1: 1000, 2: 2000, 3: 4000, 4: 8000, 5: 16000, 6: 32000, 7: 64000, 8: 128000, 9: 256000, 10: 512000]
        for (attempt, delay) in expected {
            XCTAssertEqual(try outcome(status(503), attempt: attempt), .retry(delayMs: delay), "after attempt \(attempt)")
        }
    }

    func testBackoffIsCappedAtMaxDelayMs() throws {
        for attempt in [11, 12, 30, 64, 99] {
            XCTAssertEqual(try outcome(status(503), attempt: attempt), .retry(delayMs: 600_000), "after attempt \(attempt)")
        }
        let tight = policy(RetrySettings(maxAttempts: 100, baseDelayMs: 50, maxDelayMs: 400, maxAgeSeconds: 3600))
        XCTAssertEqual([1, 2, 3, 4, 5].map { tight.backoffMs(afterAttempt: $0) }, [50, 100, 200, 400, 400])
    }

    func testJitterScalesTheDelayByAtMostTwentyPercent() throws {
        XCTAssertEqual(try outcome(status(503), attempt: 1, policy: policy(jitter: 0.8)), .retry(delayMs: 800))
        XCTAssertEqual(try outcome(status(503), attempt: 3, policy: policy(jitter: 0.8)), .retry(delayMs: 3200))
        XCTAssertEqual(try outcome(status(503), attempt: 1, policy: policy(jitter: 1.2)), .retry(delayMs: 1200))
        XCTAssertEqual(try outcome(status(503), attempt: 3, policy: policy(jitter: 1.2)), .retry(delayMs: 4800))
    }

    func testJitteredDelayNeverExceedsMaxDelayMs() throws {
        XCTAssertEqual(try outcome(status(503), attempt: 20, policy: policy(jitter: 1.2)), .retry(delayMs: 600_000))
        XCTAssertEqual(try outcome(status(503), attempt: 20, policy: policy(jitter: 0.8)), .retry(delayMs: 480_000))
    }

    func testRandomJitterStaysWithinTwentyPercent() {
        let random = RetryPolicy(settings: roomy, jitter: RandomJitter())
        let delays = (0..<2000).map { _ in random.backoffMs(afterAttempt: 3) }
        XCTAssertTrue(delays.allSatisfy { (3200...4800).contains($0) }, "out of range: \(delays.filter { !(3200...4800).contains($0) })")
        XCTAssertGreaterThan(Set(delays).count, 1, "jitter should vary")
    }

    // MARK: attempt limits

    func testTheLastAllowedAttemptEndsWithRetriesExhausted() throws {
        let three = policy(RetrySettings(maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 600_000, maxAgeSeconds: 86400))
        XCTAssertEqual(try outcome(status(503), attempt: 1, policy: three), .retry(delayMs: 1000))
        XCTAssertEqual(try outcome(status(503), attempt: 2, policy: three), .retry(delayMs: 2000))
        XCTAssertEqual(try outcome(status(503), attempt: 3, policy: three), .failed(.retriesExhausted))
        XCTAssertEqual(try outcome(.transportError(TransportError(kind: .connect, detail: "x")), attempt: 3, policy: three),
                       .failed(.retriesExhausted))
    }

    func testTheLastAttemptCanStillBeDeliveredOrFailWithItsStatus() throws {
        let three = policy(RetrySettings(maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 600_000, maxAgeSeconds: 86400))
        XCTAssertEqual(try outcome(status(200), attempt: 3, policy: three), .delivered(status: 200))
        XCTAssertEqual(try outcome(status(404), attempt: 3, policy: three), .failed(.httpStatus))
    }

    func testAJobsLowerMaxAttemptsLowersTheLimit() throws {
        let eight = policy(RetrySettings())
        let job = try job(maxAttempts: 2)
        XCTAssertEqual(eight.attemptLimit(for: job), 2)
        XCTAssertEqual(try outcome(status(503), attempt: 1, policy: eight, job: job), .retry(delayMs: 1000))
        XCTAssertEqual(try outcome(status(503), attempt: 2, policy: eight, job: job), .failed(.retriesExhausted))
    }

    func testAJobsHigherMaxAttemptsNeverRaisesTheLimit() throws {
        let three = policy(RetrySettings(maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 600_000, maxAgeSeconds: 86400))
        let job = try job(maxAttempts: 50)
        XCTAssertEqual(three.attemptLimit(for: job), 3)
        XCTAssertEqual(try outcome(status(503), attempt: 3, policy: three, job: job), .failed(.retriesExhausted))
    }

    func testMaxAttemptsOfOneMeansNoRetry() throws {
        XCTAssertEqual(try outcome(status(503), attempt: 1, job: try job(maxAttempts: 1)), .failed(.retriesExhausted))
    }

    // MARK: Retry-After

    func testRetryAfterSecondsIsHonoured() throws {
        XCTAssertEqual(try outcome(status(503, retryAfter: "120"), attempt: 1), .retry(delayMs: 120_000))
        XCTAssertEqual(try outcome(status(429, retryAfter: "7"), attempt: 6), .retry(delayMs: 7000), "replaces the backoff")
    }

    func testRetryAfterIsNotJittered() throws {
        XCTAssertEqual(try outcome(status(503, retryAfter: "10"), policy: policy(jitter: 1.2)), .retry(delayMs: 10_000))
        XCTAssertEqual(try outcome(status(503, retryAfter: "10"), policy: policy(jitter: 0.8)), .retry(delayMs: 10_000))
    }

    func testRetryAfterHTTPDateIsHonoured() throws {
        XCTAssertEqual(try outcome(status(503, retryAfter: "Sun, 09 Sep 2001 01:47:10 GMT")), .retry(delayMs: 30_000))
    }

    func testRetryAfterIsCappedAtMaxDelayMs() throws {
        let capped = policy(RetrySettings(maxAttempts: 8, baseDelayMs: 1000, maxDelayMs: 60_000, maxAgeSeconds: 86400))
        XCTAssertEqual(try outcome(status(503, retryAfter: "3600"), policy: capped), .retry(delayMs: 60_000))
        XCTAssertEqual(try outcome(status(503, retryAfter: "Mon, 10 Sep 2001 01:46:40 GMT"), policy: capped), .retry(delayMs: 60_000))
        XCTAssertEqual(try outcome(status(503, retryAfter: "99999999999999999999999"), policy: capped), .retry(delayMs: 60_000))
    }

    func testUnparsableRetryAfterFallsBackToTheBackoff() throws {
        XCTAssertEqual(try outcome(status(503, retryAfter: "soon"), attempt: 2), .retry(delayMs: 2000))
    }

    func testRetryAfterInThePastMeansRetryNow() throws {
        XCTAssertEqual(try outcome(status(503, retryAfter: "Sun, 06 Nov 1994 08:49:37 GMT")), .retry(delayMs: 0))
    }

    // MARK: expiry

    func testRetryThatWouldLandPastNotAfterExpires() throws {
        let job = try job(notAfter: now + 1.5)
        XCTAssertEqual(try outcome(status(503), attempt: 1, job: job), .retry(delayMs: 1000))
        XCTAssertEqual(try outcome(status(503), attempt: 2, job: job), .failed(.expired))
        XCTAssertEqual(try outcome(status(503, retryAfter: "2"), attempt: 1, job: job), .failed(.expired))
    }

    func testJobPastNotAfterExpires() throws {
        XCTAssertEqual(try outcome(status(500), job: try job(notAfter: now - 1)), .failed(.expired))
        XCTAssertEqual(try outcome(.transportError(TransportError(kind: .dns, detail: "x")), job: try job(notAfter: now - 1)),
                       .failed(.expired))
    }

    func testRetryThatWouldLandPastMaxAgeSecondsExpires() throws {
        let minute = policy(RetrySettings(maxAttempts: 8, baseDelayMs: 1000, maxDelayMs: 600_000, maxAgeSeconds: 60))
        XCTAssertEqual(try outcome(status(503), policy: minute, firstClaimedAt: now - 58), .retry(delayMs: 1000))
        XCTAssertEqual(try outcome(status(503), policy: minute, firstClaimedAt: now - 59.5), .failed(.expired))
        XCTAssertEqual(try outcome(status(503), policy: minute, firstClaimedAt: now - 3600), .failed(.expired))
    }

    func testDeliveryPastTheDeadlineStillCountsAsDelivered() throws {
        XCTAssertEqual(try outcome(status(200), job: try job(notAfter: now - 1)), .delivered(status: 200))
    }

    func testDeadlineIsTheEarlierOfNotAfterAndMaxAge() throws {
        let hour = policy(RetrySettings(maxAttempts: 8, baseDelayMs: 1000, maxDelayMs: 600_000, maxAgeSeconds: 3600))
        XCTAssertEqual(hour.deadline(for: try job(), firstClaimedAt: now), now + 3600)
        XCTAssertEqual(hour.deadline(for: try job(notAfter: now + 60), firstClaimedAt: now), now + 60)
        XCTAssertEqual(hour.deadline(for: try job(notAfter: now + 7200), firstClaimedAt: now), now + 3600)
    }

    func testFailureReasonsAreTheContractSpellings() {
        XCTAssertEqual(FailureReason.httpStatus.rawValue, "http_status")
        XCTAssertEqual(FailureReason.retriesExhausted.rawValue, "retries_exhausted")
        XCTAssertEqual(FailureReason.expired.rawValue, "expired")
    }
}
