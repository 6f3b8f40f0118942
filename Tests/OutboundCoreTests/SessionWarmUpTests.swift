import XCTest
@testable import OutboundCore

/// `SessionWarmUp` alone, and through the dispatch core: a TLS destination gets one transfer
/// until an attempt to it has ended, so the rest of its connections can resume the first
/// one's TLS session; plain-HTTP destinations never wait.
final class SessionWarmUpTests: XCTestCase {
    func testATLSDestinationIsHeldToOneUntilAnAttemptToItEnds() {
        var warmUp = SessionWarmUp()
        XCTAssertEqual(warmUp.limit(16, for: "acme.example:443", tls: true), 1)
        XCTAssertEqual(warmUp.limit(16, for: "acme.example:80", tls: false), 16, "plain HTTP has no session to wait for")
        warmUp.attemptEnded(for: "acme.example:443")
        XCTAssertEqual(warmUp.limit(16, for: "acme.example:443", tls: true), 16)
        XCTAssertEqual(warmUp.limit(16, for: "other.example:443", tls: true), 1, "each destination warms up on its own")
        XCTAssertEqual(warmUp.limit(0, for: "other.example:443", tls: true), 0, "never above the configured limit")
    }

    // MARK: through the dispatch core

    private var settings = Settings(environment: .nonProduction, auditLogPath: "/nonexistent/audit.jsonl")
    private let endpoints = ["https://acme.example/", "http://plain.example/", "https://other.example/"]

    private func makeCore(configure: (inout Settings) -> Void) throws -> DispatchCore {
        configure(&settings)
        let registry = ClientRegistry([try Fixture.record(endpoints: endpoints)])
        return DispatchCore(mode: .drain(maxWaitSeconds: nil), settings: settings, gate: Gate(registry: registry, environment: .nonProduction),
                            policy: RetryPolicy(settings: settings.retry, jitter: FixedJitter(value: 1)), now: 1000)
    }

    private func jobs(_ names: [String], at base: String, firstLine: Int, core: DispatchCore) throws -> [IntakeResult] {
        try names.enumerated().map { offset, name in
            let job = try Fixture.job(url: "\(base)\(name)", id: name)
            let pass = try GatePass(generation: core.generation, client: Fixture.record(endpoints: endpoints))
            return .job(name: "\(name).json", job: job, inode: 7, bytes: 100, state: nil, pass: pass, acceptedLine: firstLine + offset)
        }
    }

    func testAFreshTLSDestinationStartsOneTransferThenItsShareOnceThatOneEnds() throws {
        var core = try makeCore { $0.concurrency = 16; $0.perHostConcurrency = 3 }
        _ = core.intakeDelivered(try jobs(["a1", "a2", "a3", "a4"], at: "https://acme.example/", firstLine: 1, core: core)
                                    + jobs(["p1", "p2", "p3"], at: "http://plain.example/", firstLine: 5, core: core), now: 1000)
        let first = started(core.tick(now: 1000, durableLines: 100))
        XCTAssertEqual(first.map(\.name), ["a1.json", "p1.json", "p2.json", "p3.json"], "one to the TLS destination, the plain one's whole share")
        XCTAssertTrue(started(core.tick(now: 1000.001, durableLines: 100)).isEmpty, "acme waits for its first attempt")

        _ = core.transferFinished(token: first[0].token, result: .response(status: 204, retryAfter: nil), milliseconds: 2, now: 1000.002)
        XCTAssertEqual(started(core.tick(now: 1000.002, durableLines: 100)).map(\.name), ["a2.json", "a3.json", "a4.json"],
                       "then acme's share of three")
    }

    func testAFailedFirstAttemptEndsTheWarmUpToo() throws {
        var core = try makeCore { $0.concurrency = 16; $0.perHostConcurrency = 2 }
        _ = core.intakeDelivered(try jobs(["a1", "a2", "a3"], at: "https://acme.example/", firstLine: 1, core: core), now: 1000)
        let first = started(core.tick(now: 1000, durableLines: 100))
        XCTAssertEqual(first.map(\.name), ["a1.json"])
        _ = core.transferFinished(token: first[0].token, result: .transportError(TransportError(kind: .connect, detail: "Couldn't connect to server")),
                                  milliseconds: 1, now: 1000.001)
        XCTAssertEqual(started(core.tick(now: 1000.001, durableLines: 100)).map(\.name), ["a2.json", "a3.json"])
    }

    func testAFirstTLSTransferThatNeverEndsStallsItsDestination() throws {
        var core = try makeCore { $0.concurrency = 16; $0.perHostConcurrency = 8; $0.timeoutMs = 4000 }
        _ = core.intakeDelivered(try jobs(["a1", "a2"], at: "https://acme.example/", firstLine: 1, core: core)
                                    + jobs(["o1"], at: "https://other.example/", firstLine: 3, core: core), now: 1000)
        XCTAssertEqual(started(core.tick(now: 1000, durableLines: 100)).map(\.name), ["a1.json", "o1.json"])
        let acme = try Fixture.job(url: "https://acme.example/a1").url.hostKey
        XCTAssertEqual(core.stalledDestinations(now: 1000.9), [])
        let other = try Fixture.job(url: "https://other.example/o1").url.hostKey
        XCTAssertEqual(core.stalledDestinations(now: 1001), [acme, other],
                       "held to one, a destination whose one transfer stops ending is stalled as one at its share is")
    }
}
