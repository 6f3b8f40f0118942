import XCTest
@testable import OutboundCore

/// Contract section 4: what is sent — the job's method, URL, headers and body exactly, plus the
/// client-ID header, the idempotency key, the User-Agent and a default Content-Type.
final class RequestBuilderTests: XCTestCase {
    private func settings(clientIdHeader: String = "Epic-Client-ID", idempotencyHeader: String? = "Idempotency-Key",
                          timeoutMs: Int = 30000, connectTimeoutMs: Int = 5000, caFile: String? = nil) -> Settings {
        var settings = Settings(environment: .nonProduction, auditLogPath: "/tmp/unused/audit.jsonl")
        settings.clientIdHeader = clientIdHeader
        settings.idempotencyHeader = idempotencyHeader
        settings.timeoutMs = timeoutMs
        settings.connectTimeoutMs = connectTimeoutMs
        settings.caFile = caFile
        return settings
    }

    private func request(_ job: Job, settings: Settings? = nil, client: ClientRecord? = nil) throws -> TransferRequest {
        RequestBuilder(settings: settings ?? self.settings()).request(for: job, client: try client ?? Fixture.record())
    }

    private func job(headers: [HeaderField] = [], body: [UInt8]? = nil, method: HTTPMethod = .post, timeoutMs: Int? = nil,
                     url: String = "https://acme.example/hooks/a?mrn=7") throws -> Job {
        try Fixture.job(url: url, id: "adt-0001", method: method, headers: headers, body: body, timeoutMs: timeoutMs)
    }

    private func contentTypeLinesWithAValue(_ request: TransferRequest) -> [String] {
        request.headerLines.filter { $0.lowercased().hasPrefix("content-type:") && $0.count > "content-type:".count }
    }

    func testHeaderLinesAreTheJobsThenTheDispatchersInTheContractOrder() throws {
        let sent = try request(try job(headers: [HeaderField(name: "X-Trace", value: "t-1"),
                                                 HeaderField(name: "Accept", value: "application/fhir+json")],
                                       body: Array("{}".utf8)))
        XCTAssertEqual(sent.headerLines, [
            "X-Trace: t-1",
            "Accept: application/fhir+json",
            "Epic-Client-ID: \(Fixture.clientId)",
            "Idempotency-Key: adt-0001",
            "User-Agent: outbound/\(RequestBuilder.version)",
            "Content-Type: application/json",
            "Expect:",
        ])
    }

    func testJobHeadersGoOutInTheirOrderAndSpelling() throws {
        let headers = [HeaderField(name: "x-b", value: "2"), HeaderField(name: "X-A", value: "1"), HeaderField(name: "X-C", value: "a, b")]
        XCTAssertEqual(Array(try request(try job(headers: headers)).headerLines.prefix(3)), ["x-b: 2", "X-A: 1", "X-C: a, b"])
    }

    func testAnEmptyJobHeaderIsSentEmptyNotRemoved() throws {
        let lines = try request(try job(headers: [HeaderField(name: "X-Empty", value: "")])).headerLines
        XCTAssertEqual(lines.first, "X-Empty;", "libcurl sends 'Name;' as an empty header; 'Name:' would remove it")
    }

    func testABlankJobHeaderIsSentEmptyNotDropped() throws {
        let lines = try request(try job(headers: [HeaderField(name: "X-Blank", value: " \t ")])).headerLines
        XCTAssertEqual(lines.first, "X-Blank;", "libcurl would drop 'X-Blank:  ' without a word")
    }

    func testClientIdHeaderNameComesFromSettings() throws {
        let lines = try request(try job(), settings: settings(clientIdHeader: "X-Partner-Id")).headerLines
        XCTAssertTrue(lines.contains("X-Partner-Id: \(Fixture.clientId)"), "\(lines)")
        XCTAssertFalse(lines.contains { $0.lowercased().hasPrefix("epic-client-id") }, "\(lines)")
    }

    func testIdempotencyKeyIsTheJobId() throws {
        XCTAssertTrue(try request(try job()).headerLines.contains("Idempotency-Key: adt-0001"))
        let renamed = try request(try job(), settings: settings(idempotencyHeader: "X-Request-Key")).headerLines
        XCTAssertTrue(renamed.contains("X-Request-Key: adt-0001"), "\(renamed)")
    }

    func testNullIdempotencyHeaderSendsNoKey() throws {
        let lines = try request(try job(), settings: settings(idempotencyHeader: nil)).headerLines
        XCTAssertFalse(lines.contains { $0.contains("adt-0001") }, "\(lines)")
        XCTAssertFalse(lines.contains { $0.lowercased().hasPrefix("idempotency-key") }, "\(lines)")
    }

    func testContentTypeDefaultsToJSONWhenThereIsABody() throws {
        XCTAssertEqual(contentTypeLinesWithAValue(try request(try job(body: Array("x".utf8)))), ["Content-Type: application/json"])
        XCTAssertEqual(contentTypeLinesWithAValue(try request(try job(body: []))), ["Content-Type: application/json"], "an empty body is a body")
    }

    func testNoContentTypeIsSentWithoutABody() throws {
        for method in [HTTPMethod.get, .post, .delete] {
            XCTAssertEqual(contentTypeLinesWithAValue(try request(try job(method: method))), [], "\(method)")
        }
    }

    func testTheJobsOwnContentTypeIsKeptAndNoDefaultIsAdded() throws {
        let sent = try request(try job(headers: [HeaderField(name: "content-type", value: "text/plain")], body: Array("x".utf8)))
        XCTAssertEqual(contentTypeLinesWithAValue(sent), ["content-type: text/plain"])
    }

    func testExpectIsSuppressed() throws {
        let lines = try request(try job(body: Array(repeating: 0x41, count: 2 << 20))).headerLines
        XCTAssertEqual(lines.filter { $0.lowercased().hasPrefix("expect") }, ["Expect:"])
    }

    func testMethodUrlAndBodyAreTheJobsExactly() throws {
        let body: [UInt8] = [0x00, 0xFF, 0x0D, 0x0A, 0x7B]
        let sent = try request(try job(body: body, method: .patch, url: "https://acme.example:8443/hooks/a?mrn=7&x=%20"))
        XCTAssertEqual(sent.method, .patch)
        XCTAssertEqual(sent.url, "https://acme.example:8443/hooks/a?mrn=7&x=%20")
        XCTAssertEqual(sent.body, body)
    }

    func testUserAgentIsOutboundAndItsVersion() throws {
        let lines = try request(try job()).headerLines
        XCTAssertEqual(lines.filter { $0.lowercased().hasPrefix("user-agent") }, ["User-Agent: outbound/\(RequestBuilder.version)"])
        XCTAssertTrue(RequestBuilder.userAgent.hasPrefix("outbound/"))
    }

    func testAJobsOwnUserAgentIsSentInsteadOfOutbounds() throws {
        let lines = try request(try job(headers: [HeaderField(name: "User-Agent", value: "epic-bridge/2")])).headerLines
        XCTAssertEqual(lines.filter { $0.lowercased().hasPrefix("user-agent") }, ["User-Agent: epic-bridge/2"])
    }

    func testTimeoutIsTheSmallerOfTheJobsAndTheConfigured() throws {
        XCTAssertEqual(try request(try job(timeoutMs: 2000)).timeoutMs, 2000, "a job may lower it")
        XCTAssertEqual(try request(try job(timeoutMs: 60000)).timeoutMs, 30000, "never raise it")
        XCTAssertEqual(try request(try job()).timeoutMs, 30000)
    }

    func testConnectTimeoutNeverExceedsTheTotalTimeout() throws {
        XCTAssertEqual(try request(try job()).connectTimeoutMs, 5000)
        XCTAssertEqual(try request(try job(timeoutMs: 2000)).connectTimeoutMs, 2000)
    }

    func testTLSMaterialComesFromSettingsAndTheClientRecord() throws {
        let client = try Fixture.record(certFile: "/etc/outbound/acme.pem", keyFile: "/etc/outbound/acme.key")
        let mutual = try request(try job(), settings: settings(caFile: "/etc/outbound/ca.pem"), client: client)
        XCTAssertEqual(mutual.tls, TLSOptions(caFile: "/etc/outbound/ca.pem", certFile: "/etc/outbound/acme.pem", keyFile: "/etc/outbound/acme.key"))
        XCTAssertEqual(try request(try job()).tls, TLSOptions())
    }
}
