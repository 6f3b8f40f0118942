import XCTest
@testable import OutboundCore

/// Contract section 6: the client-ID gate, its reasons, and the order it checks them in.
final class GateTests: XCTestCase {
    private let active = "6c12f6ab-2a3e-4f0e-9d7c-1f2e3d4c5b6a"
    private let unscoped = "11111111-2222-4333-8444-555555555555"
    private let inactive = "0b5e9a1c-7d2f-4c3a-8e6b-2f1d0c9b8a71"
    private let production = "9f8e7d6c-5b4a-4392-8170-6e5d4c3b2a19"
    /// Inactive, production-only and scoped: fails every rule but the first two.
    private let hopeless = "deadbeef-0000-4000-8000-000000000000"
    /// Active and scoped but production-only.
    private let productionScoped = "feedface-0000-4000-8000-000000000000"

    private var gate: Gate!

    override func setUpWithError() throws {
        gate = Gate(registry: ClientRegistry([
            try Fixture.record(active, scopes: ["ADT.Notify", "ORU.Result"]),
            try Fixture.record(unscoped, application: "Open Feed", endpoints: ["https://open.example/in/", "http://[::1]:8080/hooks"]),
            try Fixture.record(inactive, application: "Legacy Feed", status: .inactive),
            try Fixture.record(production, application: "Pharmacy", environment: .production),
            try Fixture.record(hopeless, application: "Retired", environment: .production, status: .inactive, scopes: ["X"],
                               endpoints: ["https://retired.example/"]),
            try Fixture.record(productionScoped, application: "Lab", environment: .production, scopes: ["X"],
                               endpoints: ["https://lab.example/"]),
        ]), environment: .nonProduction)
    }

    private func reason(_ job: Job) -> RefusalReason? {
        if case .refused(let reason, _) = gate.check(job) { return reason }
        return nil
    }

    func testJobForAnActiveInScopeClientAtItsEndpointIsAllowed() throws {
        let decision = gate.check(try Fixture.job(url: "https://acme.example/hooks/adt", clientId: active, service: "ADT.Notify"))
        guard case .allowed(let record) = decision else { return XCTFail("expected allowed, got \(decision)") }
        XCTAssertEqual(record.clientId, active)
    }

    func testJobWithoutAClientIdIsRefusedAsMissing() throws {
        XCTAssertEqual(reason(try Fixture.job(url: "https://acme.example/hooks/a", clientId: "", service: "ADT.Notify")), .missingClientId)
    }

    func testUnknownClientIdIsRefused() throws {
        XCTAssertEqual(reason(try Fixture.job(url: "https://acme.example/hooks/a", clientId: "00000000-0000-4000-8000-000000000000",
                                              service: "ADT.Notify")), .unknownClientId)
    }

    func testClientIdMustMatchExactly() throws {
        for lookAlike in [active.uppercased(), " \(active)", "\(active) ", String(active.dropLast())] {
            XCTAssertEqual(reason(try Fixture.job(url: "https://acme.example/hooks/a", clientId: lookAlike, service: "ADT.Notify")),
                           .unknownClientId, lookAlike)
        }
    }

    func testInactiveClientIsRefused() throws {
        XCTAssertEqual(reason(try Fixture.job(url: "https://acme.example/hooks/a", clientId: inactive)), .inactiveClientId)
    }

    func testClientOfTheOtherEnvironmentIsRefused() throws {
        XCTAssertEqual(reason(try Fixture.job(url: "https://acme.example/hooks/a", clientId: production)), .wrongEnvironment)
        let productionGate = Gate(registry: gate.registry, environment: .production)
        XCTAssertEqual(productionGate.check(try Fixture.job(url: "https://acme.example/hooks/a", clientId: unscoped)),
                       .refused(.wrongEnvironment, message: "the client record for 'Open Feed' is for non-production, "
                                + "this dispatcher runs in production"))
    }

    func testScopedClientRefusesAJobWithoutService() throws {
        XCTAssertEqual(reason(try Fixture.job(url: "https://acme.example/hooks/a", clientId: active, service: nil)), .outOfScope)
    }

    func testScopedClientRefusesAServiceNotAmongItsScopes() throws {
        for service in ["ADT.Admin", "adt.notify", "ADT.Notify ", ""] {
            XCTAssertEqual(reason(try Fixture.job(url: "https://acme.example/hooks/a", clientId: active, service: service)),
                           .outOfScope, service)
        }
    }

    func testScopedClientAllowsEachListedService() throws {
        for service in ["ADT.Notify", "ORU.Result"] {
            XCTAssertNil(reason(try Fixture.job(url: "https://acme.example/hooks/a", clientId: active, service: service)))
        }
    }

    func testUnscopedClientAllowsAnyServiceOrNone() throws {
        XCTAssertNil(reason(try Fixture.job(url: "https://open.example/in/x", clientId: unscoped, service: nil)))
        XCTAssertNil(reason(try Fixture.job(url: "https://open.example/in/x", clientId: unscoped, service: "Anything")))
    }

    func testUrlOutsideEveryEndpointIsRefused() throws {
        XCTAssertEqual(reason(try Fixture.job(url: "https://evil.example/hooks/a", clientId: active, service: "ADT.Notify")),
                       .endpointNotAllowed)
    }

    func testAnyOfTheRecordsEndpointsAdmitsTheJob() throws {
        XCTAssertNil(reason(try Fixture.job(url: "https://open.example/in/a", clientId: unscoped)))
        XCTAssertNil(reason(try Fixture.job(url: "http://[::1]:8080/hooks/a", clientId: unscoped)))
        XCTAssertEqual(reason(try Fixture.job(url: "https://open.example/hooks/a", clientId: unscoped)), .endpointNotAllowed)
    }

    // MARK: order

    func testMissingClientIdIsReportedFirst() throws {
        XCTAssertEqual(reason(try Fixture.job(url: "https://evil.example/", clientId: "", service: "Y")), .missingClientId)
    }

    func testInactiveIsReportedBeforeWrongEnvironmentScopeAndEndpoint() throws {
        XCTAssertEqual(reason(try Fixture.job(url: "https://evil.example/", clientId: hopeless, service: "Y")), .inactiveClientId)
    }

    func testWrongEnvironmentIsReportedBeforeScopeAndEndpoint() throws {
        XCTAssertEqual(reason(try Fixture.job(url: "https://evil.example/", clientId: productionScoped, service: "Y")), .wrongEnvironment)
    }

    func testOutOfScopeIsReportedBeforeEndpoint() throws {
        XCTAssertEqual(reason(try Fixture.job(url: "https://evil.example/", clientId: active, service: "Y")), .outOfScope)
        XCTAssertEqual(reason(try Fixture.job(url: "https://evil.example/", clientId: active)), .outOfScope)
    }

    func testReasonsAreTheContractSpellingsInTheContractOrder() {
        XCTAssertEqual(RefusalReason.allCases.map(\.rawValue), [
            "missing_client_id", "unknown_client_id", "inactive_client_id", "wrong_environment", "out_of_scope", "endpoint_not_allowed",
            "authorization_header_not_allowed",
        ])
    }

    // MARK: messages

    func testEndpointRefusalMessageNeverCarriesTheQueryString() throws {
        let job = try Fixture.job(url: "https://evil.example/hooks/a?token=CANARY-51", clientId: active, service: "ADT.Notify")
        guard case .refused(.endpointNotAllowed, let message) = gate.check(job) else { return XCTFail("expected endpoint_not_allowed") }
        XCTAssertFalse(message.contains("CANARY-51"), message)
        XCTAssertTrue(message.contains("https://evil.example/hooks/a"), message)
    }
}
