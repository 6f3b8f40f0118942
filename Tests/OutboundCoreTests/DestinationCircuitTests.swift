@testable import OutboundCore
import XCTest

/// Contract section 13, one rule per test, decided with no socket: threshold, cooldown,
/// one probe, doubling, what counts.
final class DestinationCircuitTests: XCTestCase {
    private let partner = Destination(scheme: "https", host: "partner.example", port: 443)
    private let rules = CircuitRules(failureThreshold: 3, cooldownMs: 1000, maxCooldownMs: 5000)
    private var table = DestinationTable(rules: CircuitRules(failureThreshold: 3, cooldownMs: 1000, maxCooldownMs: 5000))

    private static let refused = AttemptResult.transportError(TransportError(kind: .connect, detail: "Couldn't connect to server"))
    private static let timedOut = AttemptResult.transportError(TransportError(kind: .timeout, detail: "Timeout was reached"))
    private static let answered = AttemptResult.response(status: 204, retryAfter: nil)

    @discardableResult
    private func fail(_ times: Int, at now: Double, result: AttemptResult = refused, probe: Bool = false) -> [DestinationEvent] {
        (0..<times).compactMap { _ in table.record(result, for: partner, probe: probe, now: now) }
    }

    func testThresholdConsecutiveFailuresTakeItDownForTheCooldown() {
        XCTAssertEqual(fail(2, at: 10), [])
        XCTAssertEqual(table.decide(for: partner, now: 10), .attempt)
        XCTAssertEqual(fail(1, at: 10), [DestinationEvent(kind: .down, destination: partner, failures: 3, cooldownMs: 1000)])
        XCTAssertEqual(table.decide(for: partner, now: 10.5), .setAside(until: 11))
        XCTAssertEqual(table.down.map(\.destination), [partner])
    }

    func testASuccessBetweenFailuresStartsTheCountAgain() {
        fail(2, at: 10)
        XCTAssertNil(table.record(Self.answered, for: partner, probe: false, now: 10))
        XCTAssertEqual(fail(2, at: 10), [])
        XCTAssertEqual(table.decide(for: partner, now: 10), .attempt)
    }

    func testAfterTheCooldownOneJobProbesAndTheOthersWait() {
        fail(3, at: 10)
        XCTAssertEqual(table.decide(for: partner, now: 11), .probe)
        guard case .setAside(let until) = table.decide(for: partner, now: 11.1) else { return XCTFail("one probe only") }
        XCTAssertEqual(until, 11.1 + 2, accuracy: 1e-9, "until the next probe would be due")
        XCTAssertEqual(table.decide(for: partner, now: 11.2), .setAside(until: 13.2), "still one probe")
    }

    func testASuccessfulProbeBringsItUp() {
        fail(3, at: 10)
        XCTAssertEqual(table.decide(for: partner, now: 11), .probe)
        XCTAssertEqual(table.record(Self.answered, for: partner, probe: true, now: 11.1),
                       DestinationEvent(kind: .up, destination: partner, failures: 3, cooldownMs: 1000))
        XCTAssertEqual(table.decide(for: partner, now: 11.1), .attempt)
        XCTAssertTrue(table.down.isEmpty)
    }

    func testAFailedProbeTakesItDownForTheDoubledCooldownUpToMaxDelay() {
        fail(3, at: 0)
        var now = 0.0
        for expected in [2000, 4000, 5000, 5000] {
            now += 10
            XCTAssertEqual(table.decide(for: partner, now: now), .probe)
            let events = fail(1, at: now, result: Self.timedOut, probe: true)
            XCTAssertEqual(events.map(\.cooldownMs), [expected])
            XCTAssertEqual(events.map(\.kind), [.down])
            XCTAssertEqual(table.decide(for: partner, now: now), .setAside(until: now + Double(expected) / 1000))
        }
    }

    func testACooldownNeverFallsBelowCooldownMsEvenAboveMaxDelay() {
        let slow = CircuitRules(failureThreshold: 1, cooldownMs: 9000, maxCooldownMs: 5000)
        XCTAssertEqual(slow.cooldown(after: 0), 9000)
        XCTAssertEqual(slow.cooldown(after: 9000), 9000)
        XCTAssertEqual(rules.cooldown(after: Int.max / 2 + 1), 5000, "no overflow")
    }

    func testAfterComingUpTheNextOpeningStartsAtCooldownMsAgain() {
        fail(3, at: 0)
        _ = table.decide(for: partner, now: 1)
        fail(1, at: 1, probe: true)  // 2000 ms
        _ = table.decide(for: partner, now: 3)
        _ = table.record(Self.answered, for: partner, probe: true, now: 3)
        XCTAssertEqual(fail(3, at: 4).map(\.cooldownMs), [1000])
    }

    func testHTTPStatusesNeverOpenIt() {
        for status in [500, 502, 503, 504, 429, 404] {
            for _ in 0..<10 { XCTAssertNil(table.record(.response(status: status, retryAfter: "1"), for: partner, probe: false, now: 0)) }
        }
        XCTAssertEqual(table.decide(for: partner, now: 0), .attempt)
    }

    func testLocalErrorsAndResetsNeverCountNorResetTheCount() {
        fail(2, at: 0)
        let local = AttemptResult.transportError(TransportError(kind: .connect, detail: "Couldn't connect to server", isLocal: true))
        let reset = AttemptResult.transportError(TransportError(kind: .reset, detail: "Failure when receiving data from the peer"))
        XCTAssertEqual(fail(10, at: 0, result: local), [])
        XCTAssertEqual(fail(10, at: 0, result: reset), [])
        XCTAssertEqual(table.decide(for: partner, now: 0), .attempt)
        XCTAssertEqual(fail(1, at: 0).map(\.kind), [.down], "the two counted failures were kept")
    }

    func testConnectDNSTLSAndTimeoutCount() {
        for kind in [TransportError.Kind.connect, .dns, .tls, .timeout] {
            XCTAssertEqual(CircuitVerdict(.transportError(TransportError(kind: kind, detail: ""))), .unreachable, "\(kind)")
        }
        for kind in [TransportError.Kind.reset, .other] {
            XCTAssertEqual(CircuitVerdict(.transportError(TransportError(kind: kind, detail: ""))), .neutral, "\(kind)")
        }
        XCTAssertEqual(CircuitVerdict(.response(status: 503, retryAfter: nil)), .reachable)
    }

    func testAProbeThatSaysNothingOrIsAbandonedLetsTheNextJobProbe() {
        fail(3, at: 0)
        XCTAssertEqual(table.decide(for: partner, now: 1), .probe)
        let local = AttemptResult.transportError(TransportError(kind: .connect, detail: "", isLocal: true))
        XCTAssertNil(table.record(local, for: partner, probe: true, now: 1.2))
        XCTAssertEqual(table.decide(for: partner, now: 1.2), .probe)
        table.abandonProbe(for: partner, now: 1.3)
        XCTAssertEqual(table.decide(for: partner, now: 1.3), .probe)
    }

    func testLateFailuresOfAttemptsStartedBeforeItWentDownDoNotReopenIt() {
        fail(3, at: 0)
        XCTAssertEqual(fail(5, at: 0.5), [], "no second destination_down")
        XCTAssertEqual(table.decide(for: partner, now: 0.9), .setAside(until: 1))
        XCTAssertEqual(table.decide(for: partner, now: 1), .probe)
        XCTAssertEqual(fail(1, at: 1.1, probe: false), [], "not the probe's result")
        XCTAssertEqual(fail(1, at: 1.2, probe: true).map(\.cooldownMs), [2000])
    }

    func testALateAnswerWhileDownBringsItUp() {
        fail(3, at: 0)
        XCTAssertEqual(table.record(Self.answered, for: partner, probe: false, now: 0.5)?.kind, .up)
        XCTAssertEqual(table.decide(for: partner, now: 0.5), .attempt)
    }

    func testOtherDestinationsAreUnaffected() {
        fail(3, at: 0)
        XCTAssertEqual(table.decide(for: Destination(scheme: "https", host: "partner.example", port: 8443), now: 0), .attempt)
        XCTAssertEqual(table.decide(for: Destination(scheme: "http", host: "partner.example", port: 443), now: 0), .attempt)
        XCTAssertEqual(table.decide(for: Destination(scheme: "https", host: "other.example", port: 443), now: 0), .attempt)
    }

    func testThresholdZeroTurnsItOff() {
        table = DestinationTable(rules: CircuitRules(failureThreshold: 0, cooldownMs: 1000, maxCooldownMs: 5000))
        XCTAssertEqual(fail(1000, at: 0), [])
        XCTAssertEqual(table.decide(for: partner, now: 0), .attempt)
        XCTAssertTrue(table.down.isEmpty)
    }

    func testTurningItOffAtReloadBringsEveryDestinationBack() {
        fail(3, at: 0)
        table.update(rules: CircuitRules(failureThreshold: 0, cooldownMs: 1000, maxCooldownMs: 5000))
        XCTAssertEqual(table.decide(for: partner, now: 0), .attempt)
        XCTAssertTrue(table.down.isEmpty)
    }

    func testHealthyDestinationsLeaveNoEntry() {
        fail(2, at: 0)
        _ = table.record(Self.answered, for: partner, probe: false, now: 0)
        XCTAssertTrue(table.down.isEmpty)
        var circuit = DestinationCircuit()
        XCTAssertTrue(circuit.isIdle)
        _ = circuit.record(.unreachable, probe: false, now: 0, destination: partner, rules: rules)
        XCTAssertFalse(circuit.isIdle)
    }

    func testTheEventsAuditLinesCarryDestinationFailuresAndCooldown() {
        let event = DestinationEvent(kind: .down, destination: partner, failures: 5, cooldownMs: 30000)
        let line = String(decoding: event.auditRecord(at: 0).serialized(), as: UTF8.self)
        XCTAssertTrue(line.contains(#""event":"destination_down""#), line)
        XCTAssertTrue(line.contains(#""destination":"https://partner.example:443","failures":5,"cooldownMs":30000"#), line)
        XCTAssertEqual(DestinationEvent(kind: .up, destination: partner, failures: 1, cooldownMs: 1).auditRecord(at: 0).event, .destinationUp)
    }
}
