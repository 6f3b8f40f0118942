@testable import OutboundCore
import XCTest

/// Swift compares Strings by Unicode canonical equivalence and `lowercased()` maps beyond
/// ASCII; the gate must decide on the bytes that are actually sent.
final class UnicodeLookAlikeTests: XCTestCase {
    private let decoder = JobDecoder(clientIdHeader: "Epic-Client-ID", idempotencyHeader: "Idempotency-Key")

    func testANonASCIIHostIsAnInvalidJob() {
        let job = #"{"clientId":"c","url":"http://\u212Aitchen.example/hooks/a"}"#
        XCTAssertThrowsError(try decoder.decode(Array(job.utf8), fileName: "k.json")) { error in
            XCTAssertEqual((error as? JobRejection)?.reason, .invalidJob)
            XCTAssertTrue((error as? JobRejection)?.message.contains("xn--") == true)
        }
    }

    func testHostsAreLowercasedInASCIIOnly() throws {
        let url = try TargetURLParser.parse("https://ACME.Example/hooks/")
        XCTAssertEqual(url.host, "acme.example")
        XCTAssertEqual("\u{212A}".asciiLowercased(), "\u{212A}", "KELVIN SIGN stays what it is")
    }

    func testAClientIdThatIsOnlyCanonicallyEquivalentIsUnknown() throws {
        let precomposed = "caf\u{E9}"
        let decomposed = "cafe\u{301}"
        XCTAssertEqual(precomposed, decomposed, "Swift calls these equal")
        let endpoint = Endpoint(url: try TargetURLParser.parse("https://acme.example/hooks/"))
        let record = ClientRecord(clientId: precomposed, application: "A", environment: .nonProduction, status: .active,
                                  scopes: nil, endpoints: [endpoint])
        let gate = Gate(registry: ClientRegistry([record]), environment: .nonProduction)
        let job = Job(id: "j", clientId: decomposed, url: try TargetURLParser.parse("https://acme.example/hooks/a"))
        guard case .refused(let reason, _) = gate.check(job) else { return XCTFail("a different byte spelling passed the gate") }
        XCTAssertEqual(reason, .unknownClientId)
        let exact = Job(id: "j", clientId: precomposed, url: try TargetURLParser.parse("https://acme.example/hooks/a"))
        XCTAssertEqual(gate.check(exact), .allowed(record))
    }

    func testAPathOnlyCanonicallyEquivalentToTheEndpointIsNotUnderIt() throws {
        let endpoint = Endpoint(url: try TargetURLParser.parse("https://acme.example/caf\u{E9}/"))
        XCTAssertTrue(endpoint.admits(try TargetURLParser.parse("https://acme.example/caf\u{E9}/a")))
        XCTAssertFalse(endpoint.admits(try TargetURLParser.parse("https://acme.example/cafe\u{301}/a")))
    }
}
