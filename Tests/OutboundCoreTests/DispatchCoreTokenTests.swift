import XCTest
@testable import OutboundCore

/// The dispatch core with OAuth clients (contract 12), fed events and read back as actions:
/// jobs wait for a token outside the transfer slots, one token request per client at a time,
/// failures defer with an `auth:` error, a 401 heals once without counting an attempt.
final class DispatchCoreTokenTests: XCTestCase {
    private let registryRecord: ClientRecord = {
        let auth = OAuthClientAuth(tokenURL: try! Fixture.url("http://127.0.0.1:9/token"), scope: nil,
                                   credential: .clientSecret(ClientSecret(value: "secret", file: "/cfg/secret")))
        return ClientRecord(clientId: Fixture.clientId, application: "Acme", environment: .nonProduction, status: .active,
                            scopes: nil, endpoints: [Endpoint(url: try! Fixture.url("http://acme.example/"))], auth: auth)
    }()

    private func makeCore(concurrency: Int = 4) -> DispatchCore {
        var settings = Settings(environment: .nonProduction, auditLogPath: "/nonexistent/audit.jsonl")
        settings.concurrency = concurrency
        settings.retry.baseDelayMs = 2000
        return DispatchCore(mode: .drain(maxWaitSeconds: nil), settings: settings,
                            gate: Gate(registry: ClientRegistry([registryRecord]), environment: .nonProduction),
                            policy: RetryPolicy(settings: settings.retry, jitter: FixedJitter(value: 1)), now: 1000)
    }

    private func deliver(_ count: Int, to core: inout DispatchCore) throws {
        let results: [IntakeResult] = try (1...count).map { index in
            let job = try Fixture.job(url: "http://acme.example/a", id: "j\(index)")
            return .job(name: "j\(index).json", job: job, inode: UInt64(index), bytes: 100, state: nil,
                        pass: GatePass(generation: core.generation, client: registryRecord), acceptedLine: index)
        }
        _ = core.intakeDelivered(results, now: 1000)
    }

    private func started(_ actions: [DispatchAction]) -> [(token: Int, claimed: ClaimedJob)] {
        actions.compactMap { if case .startTransfer(let token, let claimed, _) = $0 { return (token, claimed) } else { return nil } }
    }

    private func fetches(_ actions: [DispatchAction]) -> [Int] {
        actions.compactMap { if case .fetchToken(let token, _) = $0 { return token } else { return nil } }
    }

    private func tokenLines(_ actions: [DispatchAction]) -> [AuditRecord] {
        actions.compactMap { if case .writeTokenLine(let record) = $0 { return record } else { return nil } }
    }

    func testSixtyFourJobsWithNoTokenMakeOneTokenRequestAndHoldNoSlot() throws {
        var core = makeCore(concurrency: 4)
        try deliver(64, to: &core)
        let actions = core.tick(now: 1000, durableLines: 100)
        XCTAssertEqual(fetches(actions).count, 1, "single flight")
        XCTAssertTrue(started(actions).isEmpty, "nothing goes to the target without a token")
        XCTAssertEqual(core.inFlight.count, 0, "waiting for a token holds no transfer slot")
        XCTAssertEqual(core.awaitingToken.count, 64)
        XCTAssertTrue(fetches(core.tick(now: 1000.5, durableLines: 100)).isEmpty, "still one request")
        XCTAssertEqual(core.heldByLoop, 64, "parked jobs count against the claim window")

        let token = AccessToken(value: "tok-1", expiresIn: 300)
        let after = core.tokenFetchFinished(token: try XCTUnwrap(fetches(actions).first), result: .success(token), status: 200, milliseconds: 4, now: 1001)
        XCTAssertEqual(tokenLines(after).map(\.expiresIn), [300])
        XCTAssertEqual(core.awaitingToken.count, 0)
        let sent = started(core.tick(now: 1001, durableLines: 100))
        XCTAssertEqual(sent.map(\.claimed.name), ["j1.json", "j2.json", "j3.json", "j4.json"], "in their order, up to concurrency")
        XCTAssertTrue(sent.allSatisfy { $0.claimed.bearer == token })
    }

    func testAJobOfAClientWithoutAuthGoesAtOnce() throws {
        var core = makeCore()
        let plain = try Fixture.record(endpoints: ["http://acme.example/"])
        let job = try Fixture.job(url: "http://acme.example/a", id: "p")
        _ = core.intakeDelivered([.job(name: "p.json", job: job, inode: 1, bytes: 10, state: nil,
                                       pass: GatePass(generation: core.generation, client: plain), acceptedLine: 1)], now: 1000)
        let actions = core.tick(now: 1000, durableLines: 1)
        XCTAssertEqual(started(actions).count, 1)
        XCTAssertNil(started(actions).first?.claimed.bearer)
        XCTAssertTrue(fetches(actions).isEmpty)
    }

    func testRefusedTokenRequestDefersWaitersWithTheOAuthCodeAndNoAttempt() throws {
        var core = makeCore()
        try deliver(3, to: &core)
        let fetch = try XCTUnwrap(fetches(core.tick(now: 1000, durableLines: 100)).first)
        let failure = TokenFailure.refused(status: 401, code: "invalid_client")
        let actions = core.tokenFetchFinished(token: fetch, result: .failure(failure), status: 401, milliseconds: 3, now: 1001)
        XCTAssertEqual(tokenLines(actions).first?.oauthError, "invalid_client")
        let deferred = actions.compactMap { if case .deferJob(let deferral) = $0 { return deferral } else { return nil } }
        XCTAssertEqual(deferred.map(\.name), ["j1.json", "j2.json", "j3.json"])
        XCTAssertTrue(deferred.allSatisfy { $0.record.error == "auth: invalid_client (token endpoint answered 401)" })
        XCTAssertTrue(deferred.allSatisfy { $0.state.attempts == 0 }, "nothing was sent: no attempt counted")
        XCTAssertEqual(deferred.first?.state.nextAttemptAt, 1003, "the token backoff: baseDelay")
        XCTAssertTrue(core.awaitingToken.isEmpty)
    }

    func testA401WithACachedTokenIsResentOnceAtOnceWithoutAnAttempt() throws {
        var core = makeCore()
        try deliver(1, to: &core)
        let fetch = try XCTUnwrap(fetches(core.tick(now: 1000, durableLines: 100)).first)
        _ = core.tokenFetchFinished(token: fetch, result: .success(AccessToken(value: "revoked", expiresIn: 300)), status: 200,
                                    milliseconds: 1, now: 1000)
        let first = try XCTUnwrap(started(core.tick(now: 1000, durableLines: 100)).first)
        let unauthorized = AttemptResult.response(status: 401, retryAfter: nil)
        XCTAssertTrue(core.transferFinished(token: first.token, result: unauthorized, milliseconds: 1, now: 1001).isEmpty)
        let refetch = core.tick(now: 1001, durableLines: 100)
        XCTAssertEqual(fetches(refetch).count, 1, "the revoked token was dropped: a fresh one is requested")
        XCTAssertTrue(started(refetch).isEmpty)
        let fresh = AccessToken(value: "fresh", expiresIn: 300)
        _ = core.tokenFetchFinished(token: try XCTUnwrap(fetches(refetch).first), result: .success(fresh), status: 200, milliseconds: 1, now: 1001)
        let second = try XCTUnwrap(started(core.tick(now: 1001, durableLines: 100)).first)
        XCTAssertEqual(second.claimed.bearer, fresh)
        XCTAssertEqual(second.claimed.attempts, 0, "the free retry counted no attempt")
        // A second 401 is the attempt's outcome.
        let end = core.transferFinished(token: second.token, result: unauthorized, milliseconds: 1, now: 1002)
        guard case .file(let filing)? = end.first else { return XCTFail("expected a filing: \(end)") }
        XCTAssertEqual(filing.folder, .failed)
        XCTAssertEqual(filing.record.attempt, 1)
    }

    func testWhileTheEndpointIsInBackoffAJobIsDeferredWithoutAnotherRequest() throws {
        var core = makeCore()
        try deliver(1, to: &core)
        let fetch = try XCTUnwrap(fetches(core.tick(now: 1000, durableLines: 100)).first)
        _ = core.tokenFetchFinished(token: fetch, result: .failure(.unavailable(status: 503, retryAfter: nil)), status: 503,
                                    milliseconds: 1, now: 1000)
        // A retry claimed during the 2 s backoff: no token request, deferred to its end.
        let job = try Fixture.job(url: "http://acme.example/a", id: "late")
        _ = core.retryClaimed("late.json", job: job, inode: 9, bytes: 10, state: JobState(attempts: 2, firstClaimedAt: 990, nextAttemptAt: 1001,
                                                                                            inode: 9, lane: nil), now: 1001)
        let actions = core.tick(now: 1001, durableLines: 100)
        XCTAssertTrue(fetches(actions).isEmpty, "no token request during the backoff")
        let deferred = actions.compactMap { if case .deferJob(let deferral) = $0 { return deferral } else { return nil } }
        XCTAssertEqual(deferred.map(\.name), ["late.json"])
        XCTAssertEqual(deferred.first?.state.nextAttemptAt, 1002)
        XCTAssertEqual(deferred.first?.state.attempts, 2, "its attempts are kept, none added")
        XCTAssertEqual(deferred.first?.record.error, "auth: token endpoint answered 503")
    }

    func testAReloadThatChangesTheRecordReleasesWaitersAndIgnoresTheOldRequest() throws {
        var core = makeCore()
        try deliver(2, to: &core)
        let old = try XCTUnwrap(fetches(core.tick(now: 1000, durableLines: 100)).first)
        let changedAuth = OAuthClientAuth(tokenURL: try Fixture.url("http://127.0.0.1:9/token"), scope: nil,
                                          credential: .clientSecret(ClientSecret(value: "rotated", file: "/cfg/secret")))
        let changed = ClientRecord(clientId: Fixture.clientId, application: "Acme", environment: .nonProduction, status: .active,
                                   scopes: nil, endpoints: [Endpoint(url: try Fixture.url("http://acme.example/"))], auth: changedAuth)
        var settings = Settings(environment: .nonProduction, auditLogPath: "/nonexistent/audit.jsonl")
        settings.concurrency = 4
        core.reloaded(settings: settings, gate: Gate(registry: ClientRegistry([changed]), environment: .nonProduction),
                      policy: RetryPolicy(settings: settings.retry, jitter: FixedJitter(value: 1)))
        XCTAssertTrue(core.awaitingToken.isEmpty, "the waiters are back in ready")
        XCTAssertEqual(core.ready.map(\.name), ["j1.json", "j2.json"])
        let fresh = try XCTUnwrap(fetches(core.tick(now: 1001, durableLines: 100)).first, "a new request under the new record")
        let stale = core.tokenFetchFinished(token: old, result: .success(AccessToken(value: "old", expiresIn: 300)), status: 200,
                                            milliseconds: 1, now: 1001)
        XCTAssertEqual(tokenLines(stale).count, 1, "the old request still gets its token line")
        XCTAssertTrue(started(core.tick(now: 1001, durableLines: 100)).isEmpty, "a token for the old record is not used")
        _ = core.tokenFetchFinished(token: fresh, result: .success(AccessToken(value: "new", expiresIn: 300)), status: 200,
                                    milliseconds: 1, now: 1001)
        let sent = started(core.tick(now: 1001, durableLines: 100))
        XCTAssertEqual(sent.count, 2)
        XCTAssertTrue(sent.allSatisfy { $0.claimed.bearer?.value == "new" })
    }

    func testAStopPutsBackJobsWaitingForAToken() throws {
        var core = makeCore()
        try deliver(2, to: &core)
        _ = core.tick(now: 1000, durableLines: 100)
        let actions = core.stopRequested(now: 1001)
        let putBack = actions.compactMap { if case .putBack(let name, _, _) = $0 { return name } else { return nil } }
        XCTAssertEqual(putBack, ["j1.json", "j2.json"])
        XCTAssertTrue(core.awaitingToken.isEmpty)
    }
}
