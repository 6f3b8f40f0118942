import XCTest
@testable import OutboundCore

/// Contract section 6, `endpoint_not_allowed`: scheme, host and port must equal an endpoint's,
/// and the path must lie under the endpoint's path at a `/` boundary. Look-alikes are refused.
final class EndpointTests: XCTestCase {
    private func admits(_ endpoint: String, _ target: String, file: StaticString = #filePath, line: UInt = #line) throws -> Bool {
        Endpoint(url: try Fixture.url(endpoint, file: file, line: line)).admits(try Fixture.url(target, file: file, line: line))
    }

    private func assertAdmitted(_ target: String, by endpoint: String = "https://acme.example/hooks/",
                                file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertTrue(try admits(endpoint, target, file: file, line: line), "\(endpoint) should admit \(target)", file: file, line: line)
    }

    private func assertRefused(_ target: String, by endpoint: String = "https://acme.example/hooks/",
                               file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertFalse(try admits(endpoint, target, file: file, line: line), "\(endpoint) must refuse \(target)", file: file, line: line)
    }

    func testPathsUnderTheEndpointAreAllowed() throws {
        try assertAdmitted("https://acme.example/hooks/")
        try assertAdmitted("https://acme.example/hooks/adt")
        try assertAdmitted("https://acme.example/hooks/adt/a01?mrn=1")
    }

    func testHostWithTheEndpointHostAsPrefixIsRefused() throws {
        try assertRefused("https://acme.example.evil/hooks/a")
    }

    func testHostEndingInTheEndpointHostIsRefused() throws {
        try assertRefused("https://evilacme.example/hooks/a")
        try assertRefused("https://sub.acme.example/hooks/a")
    }

    func testSiblingPathSharingThePrefixIsRefused() throws {
        try assertRefused("https://acme.example/hooksx")
        try assertRefused("https://acme.example/hooksx/a")
    }

    func testParentOfTheEndpointPathIsRefused() throws {
        try assertRefused("https://acme.example/hooks")
        try assertRefused("https://acme.example/")
    }

    func testEndpointWithoutTrailingSlashStopsAtASegmentBoundary() throws {
        let endpoint = "https://acme.example/hooks"
        try assertAdmitted("https://acme.example/hooks", by: endpoint)
        try assertAdmitted("https://acme.example/hooks/a", by: endpoint)
        try assertRefused("https://acme.example/hooksx", by: endpoint)
        try assertRefused("https://acme.example/hooks.evil", by: endpoint)
        try assertRefused("https://acme.example/hooks%2Fa", by: endpoint)
    }

    func testEndpointAtTheRootAdmitsTheWholeOrigin() throws {
        try assertAdmitted("https://acme.example/anything/at/all", by: "https://acme.example")
        try assertRefused("https://acme.example.evil/", by: "https://acme.example")
    }

    func testPathsAreCaseSensitive() throws {
        try assertRefused("https://acme.example/HOOKS/a")
    }

    func testOtherPortIsRefused() throws {
        try assertRefused("https://acme.example:8443/hooks/a")
        try assertRefused("https://acme.example:443/hooks/a", by: "https://acme.example:8443/hooks/")
    }

    func testOtherSchemeIsRefused() throws {
        try assertRefused("http://acme.example/hooks/a")
        try assertRefused("https://acme.example/hooks/a", by: "http://acme.example/hooks/")
        // Same host and port, only the scheme differs.
        try assertRefused("http://acme.example:443/hooks/a")
    }

    func testExplicitDefaultPortEqualsTheImplicitOne() throws {
        try assertAdmitted("https://acme.example:443/hooks/a")
        try assertAdmitted("https://acme.example/hooks/a", by: "https://acme.example:443/hooks/")
        try assertAdmitted("http://acme.example:80/hooks/a", by: "http://acme.example/hooks/")
    }

    func testUppercaseHostMatches() throws {
        try assertAdmitted("https://ACME.EXAMPLE/hooks/a")
        try assertAdmitted("https://acme.example/hooks/a", by: "https://Acme.Example/hooks/")
    }

    func testPercentEncodedDotSegmentsAreRefused() throws {
        for path in ["/hooks/%2e%2e/admin", "/hooks/%2E%2E/admin", "/hooks/.%2e/admin", "/hooks/%2e./admin", "/hooks/%2e/x",
                     "/hooks/a/%2e%2e", "/hooks/%2e%2e"] {
            try assertRefused("https://acme.example\(path)")
        }
    }

    func testEncodedSlashesAndBackslashesAreRefused() throws {
        try assertRefused("https://acme.example/hooks/a%2F..%2F..%2Fadmin")
        try assertRefused("https://acme.example/hooks/a%2fb")
        try assertRefused("https://acme.example/hooks/a%5C..%5Cadmin")
        try assertRefused("https://acme.example/hooks/a%00")
    }

    func testOtherPercentEncodingIsAllowed() throws {
        try assertAdmitted("https://acme.example/hooks/a%20b")
        try assertAdmitted("https://acme.example/hooks/%41")
    }

    func testLiteralDotSegmentsAreResolvedBeforeMatching() throws {
        // libcurl resolves dot segments, and the gate judges the URL libcurl will send.
        XCTAssertEqual(try Fixture.url("https://acme.example/hooks/../admin").path, "/admin")
        try assertRefused("https://acme.example/hooks/../admin")
        try assertRefused("https://acme.example/hooks/a/../../admin")
        try assertAdmitted("https://acme.example/hooks/a/../b")
        XCTAssertEqual(try Fixture.url("https://acme.example/hooks/./a").path, "/hooks/a")
    }

    func testIPv6LiteralHostsMatchOnlyThemselves() throws {
        let endpoint = "http://[::1]:8080/hooks/"
        XCTAssertEqual(try Fixture.url(endpoint).host, "[::1]")
        try assertAdmitted("http://[::1]:8080/hooks/a", by: endpoint)
        try assertRefused("http://[::2]:8080/hooks/a", by: endpoint)
        try assertRefused("http://[::1]:8081/hooks/a", by: endpoint)
        try assertRefused("http://127.0.0.1:8080/hooks/a", by: endpoint)
        try assertRefused("http://localhost:8080/hooks/a", by: endpoint)
    }

    /// A zone picks the link a link-local address is reached on: another zone, or none, is
    /// another host.
    func testAnIPv6ZoneIsPartOfTheHost() throws {
        let endpoint = "http://[fe80::1%25eth0]:8080/hooks/"
        XCTAssertEqual(try Fixture.url(endpoint).host, "[fe80::1%25eth0]")
        XCTAssertEqual(try Fixture.url("http://[FE80::1%25Eth0]/a").host, "[fe80::1%25Eth0]", "the zone keeps its case")
        XCTAssertEqual(try Fixture.url("http://[fe80::1%eth0]:8080/a").absoluteString, "http://[fe80::1%25eth0]:8080/a",
                       "a bare % is sent as libcurl serializes it")
        try assertAdmitted("http://[fe80::1%25eth0]:8080/hooks/a", by: endpoint)
        try assertAdmitted("http://[fe80::1%eth0]:8080/hooks/a", by: endpoint)
        try assertRefused("http://[fe80::1%25eth1]:8080/hooks/a", by: endpoint)
        try assertRefused("http://[fe80::1%25ETH0]:8080/hooks/a", by: endpoint)
        try assertRefused("http://[fe80::1]:8080/hooks/a", by: endpoint)
        try assertRefused("http://[fe80::1%25eth0]:8080/hooks/a", by: "http://[fe80::1]:8080/hooks/")
    }

    func testUserinfoCannotDisguiseAnotherHost() {
        XCTAssertThrowsError(try TargetURLParser.parse("https://acme.example@evil.example/hooks/a")) { error in
            XCTAssertEqual(error as? URLProblem, .hasUserinfo)
        }
    }

    func testEndpointNotAllowedThroughTheGate() throws {
        let gate = Gate(registry: ClientRegistry([try Fixture.record()]), environment: .nonProduction)
        for url in ["https://acme.example.evil/hooks/a", "https://acme.example/hooksx", "https://acme.example/hooks/%2e%2e/admin",
                    "https://acme.example/hooks/../admin", "http://acme.example/hooks/a", "https://acme.example:444/hooks/a"] {
            guard case .refused(let reason, _) = gate.check(try Fixture.job(url: url)) else {
                XCTFail("\(url) must be refused")
                continue
            }
            XCTAssertEqual(reason, .endpointNotAllowed, url)
        }
        XCTAssertEqual(gate.check(try Fixture.job(url: "https://acme.example:443/hooks/a")), .allowed(try Fixture.record()))
    }
}
