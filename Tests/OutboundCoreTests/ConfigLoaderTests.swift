import XCTest
@testable import OutboundCore

/// Contract section 5: `Config/outbound.json` and `Config/clients.json`.
final class ConfigLoaderTests: XCTestCase {
    private var root: URL!
    private var configPath: String { root.appendingPathComponent("Config").path }
    private var spoolPath: String { root.appendingPathComponent("Outbox").path }

    private static let goodClients = #"""
        {"clients":[{"clientId":"6c12f6ab-2a3e-4f0e-9d7c-1f2e3d4c5b6a","application":"Acme Bed Board",
          "environment":"non-production","status":"active","scopes":["ADT.Notify"],"endpoints":["https://acme.example/hooks/"]}]}
        """#

    override func setUpWithError() throws {
        root = try Fixture.temporaryFolder("config")
        try FileManager.default.createDirectory(atPath: configPath, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let root { try? FileManager.default.removeItem(at: root) }
    }

    private func write(_ name: String, _ text: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: "\(configPath)/\(name)"))
    }

    private func load(settings: String = #"{"environment":"non-production"}"#,
                      clients: String = ConfigLoaderTests.goodClients) throws -> Configuration {
        try write("outbound.json", settings)
        try write("clients.json", clients)
        return try ConfigLoader(directory: configPath, spoolDirectory: spoolPath).load()
    }

    /// Loads and expects a configuration error; returns it.
    private func loadError(settings: String = #"{"environment":"non-production"}"#, clients: String = ConfigLoaderTests.goodClients,
                           file: StaticString = #filePath, line: UInt = #line) -> ConfigError? {
        do {
            _ = try load(settings: settings, clients: clients)
            XCTFail("expected a configuration error", file: file, line: line)
            return nil
        } catch let error as ConfigError {
            return error
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
            return nil
        }
    }

    private func assertError(settings: String = #"{"environment":"non-production"}"#, clients: String = ConfigLoaderTests.goodClients,
                             names parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        guard let error = loadError(settings: settings, clients: clients, file: file, line: line) else { return }
        for part in parts {
            XCTAssertTrue(error.description.contains(part), "'\(part)' missing from: \(error.description)", file: file, line: line)
        }
    }

    /// A clients.json with `records` (JSON object texts) in order.
    private func clients(_ records: String...) -> String {
        #"{"clients":["# + records.joined(separator: ",") + "]}"
    }

    private func record(_ clientId: String = "c-1", _ extra: String = "") -> String {
        #"{"clientId":"\#(clientId)","environment":"non-production","status":"active","endpoints":["https://acme.example/hooks/"]"#
            + (extra.isEmpty ? "" : ",\(extra)") + "}"
    }

    // MARK: outbound.json

    func testEveryFieldButEnvironmentHasTheContractDefault() throws {
        let settings = try load().settings
        XCTAssertEqual(settings.environment, .nonProduction)
        XCTAssertEqual(settings.clientIdHeader, "Epic-Client-ID")
        XCTAssertEqual(settings.idempotencyHeader, "Idempotency-Key")
        XCTAssertEqual(settings.concurrency, 64)
        XCTAssertEqual(settings.perHostConcurrency, 16)
        XCTAssertEqual(settings.connectTimeoutMs, 5000)
        XCTAssertEqual(settings.timeoutMs, 30000)
        XCTAssertEqual(settings.retry, RetrySettings(maxAttempts: 8, baseDelayMs: 1000, maxDelayMs: 600_000, maxAgeSeconds: 86400))
        XCTAssertNil(settings.caFile)
        XCTAssertEqual(settings.auditLogPath, "\(spoolPath)/audit.jsonl")
        XCTAssertEqual(settings.maxJobBytes, 10_485_760)
        XCTAssertEqual(settings.maxClaimedBytes, 268_435_456)
        XCTAssertEqual(settings.circuit, CircuitSettings(failureThreshold: 5, cooldownMs: 30000))
        XCTAssertEqual(settings.laneOnFailure, .block)
    }

    func testTheContractSampleLoads() throws {
        let configuration = try load(settings: #"""
            {
              "environment": "non-production",
              "clientIdHeader": "Epic-Client-ID",
              "idempotencyHeader": "Idempotency-Key",
              "concurrency": 64,
              "perHostConcurrency": 16,
              "connectTimeoutMs": 5000,
              "timeoutMs": 30000,
              "retry": { "maxAttempts": 8, "baseDelayMs": 1000, "maxDelayMs": 600000, "maxAgeSeconds": 86400 },
              "tls": { "caFile": null },
              "auditLog": "audit.jsonl",
              "maxJobBytes": 10485760,
              "maxClaimedBytes": 268435456,
              "circuit": { "failureThreshold": 5, "cooldownMs": 30000 },
              "lanes": { "onFailure": "block" }
            }
            """#)
        XCTAssertEqual(configuration.settings.auditLogPath, "\(spoolPath)/audit.jsonl")
        let record = try XCTUnwrap(configuration.registry.record(for: "6c12f6ab-2a3e-4f0e-9d7c-1f2e3d4c5b6a"))
        XCTAssertEqual(record.application, "Acme Bed Board")
        XCTAssertEqual(record.environment, .nonProduction)
        XCTAssertEqual(record.status, .active)
        XCTAssertEqual(record.scopes, ["ADT.Notify"])
        XCTAssertEqual(record.endpoints.map(\.url.redacted), ["https://acme.example/hooks/"])
        XCTAssertNil(record.certFile)
        XCTAssertEqual(configuration.registry.count, 1)
    }

    func testEverySettingCanBeChanged() throws {
        let settings = try load(settings: #"""
            {"environment":"production","clientIdHeader":"X-Partner-Id","idempotencyHeader":"X-Request-Key","concurrency":8,
             "perHostConcurrency":2,"connectTimeoutMs":100,"timeoutMs":200,
             "retry":{"maxAttempts":3,"baseDelayMs":50,"maxDelayMs":400,"maxAgeSeconds":60},"maxJobBytes":1024}
            """#).settings
        XCTAssertEqual(settings.environment, .production)
        XCTAssertEqual(settings.clientIdHeader, "X-Partner-Id")
        XCTAssertEqual(settings.idempotencyHeader, "X-Request-Key")
        XCTAssertEqual([settings.concurrency, settings.perHostConcurrency, settings.connectTimeoutMs, settings.timeoutMs, settings.maxJobBytes],
                       [8, 2, 100, 200, 1024])
        XCTAssertEqual(settings.retry, RetrySettings(maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 400, maxAgeSeconds: 60))
    }

    func testByteBudgetCircuitAndLaneSettingsCanBeChanged() throws {
        let settings = try load(settings: #"""
            {"environment":"production","maxClaimedBytes":68719476736,"circuit":{"failureThreshold":0,"cooldownMs":1},
             "lanes":{"onFailure":"skip"}}
            """#).settings
        XCTAssertEqual(settings.maxClaimedBytes, 64 << 30)
        XCTAssertEqual(settings.circuit, CircuitSettings(failureThreshold: 0, cooldownMs: 1))
        XCTAssertTrue(settings.circuit.isOff)
        XCTAssertEqual(settings.laneOnFailure, .skip)
        let partial = try load(settings: #"{"environment":"production","circuit":{"cooldownMs":500}}"#).settings.circuit
        XCTAssertEqual(partial, CircuitSettings(failureThreshold: 5, cooldownMs: 500))
    }

    func testMaxClaimedBytesZeroNegativeOrOver64GiBIsAConfigurationErrorNamingTheField() {
        for value in ["0", "-1", "68719476737", "1.5", #""256MiB""#, "null"] {
            assertError(settings: #"{"environment":"production","maxClaimedBytes":\#(value)}"#, names: ["outbound.json", "'maxClaimedBytes'"])
        }
    }

    func testCircuitValuesOutOfRangeAreConfigurationErrorsNamingTheField() {
        for value in ["-1", "1001", "2.5", #""5""#] {
            assertError(settings: #"{"environment":"production","circuit":{"failureThreshold":\#(value)}}"#,
                        names: ["outbound.json", "circuit", "'failureThreshold'"])
        }
        for value in ["0", "-5", "86400001"] {
            assertError(settings: #"{"environment":"production","circuit":{"cooldownMs":\#(value)}}"#,
                        names: ["outbound.json", "circuit", "'cooldownMs'"])
        }
        assertError(settings: #"{"environment":"production","circuit":{"threshold":3}}"#, names: ["circuit", "'threshold'"])
        assertError(settings: #"{"environment":"production","circuit":5}"#, names: ["outbound.json", "'circuit'"])
    }

    func testLaneOnFailureMustBeBlockOrSkip() {
        for value in [#""Block""#, #""continue""#, "true", "null"] {
            assertError(settings: #"{"environment":"production","lanes":{"onFailure":\#(value)}}"#, names: ["outbound.json", "lanes", "'onFailure'"])
        }
        assertError(settings: #"{"environment":"production","lanes":{"on_failure":"skip"}}"#, names: ["lanes", "'on_failure'"])
    }

    func testPartialRetryObjectKeepsTheOtherDefaults() throws {
        let retry = try load(settings: #"{"environment":"production","retry":{"maxAttempts":2}}"#).settings.retry
        XCTAssertEqual(retry, RetrySettings(maxAttempts: 2, baseDelayMs: 1000, maxDelayMs: 600_000, maxAgeSeconds: 86400))
    }

    func testMissingEnvironmentIsAConfigurationError() {
        assertError(settings: "{}", names: ["outbound.json", "environment"])
    }

    func testEnvironmentMustBeProductionOrNonProduction() {
        for value in [#""prod""#, #""Production""#, #""nonproduction""#, #""""#, "1", "null"] {
            assertError(settings: #"{"environment":\#(value)}"#, names: ["outbound.json", "environment"])
        }
    }

    func testUnknownFieldInOutboundJsonIsNamed() {
        assertError(settings: #"{"environment":"production","concurency":4}"#, names: ["outbound.json", "concurency"])
    }

    func testUnknownFieldInRetryIsNamed() {
        assertError(settings: #"{"environment":"production","retry":{"maxAttempt":4}}"#, names: ["outbound.json", "retry", "maxAttempt'"])
    }

    func testUnknownFieldInTlsIsNamed() {
        assertError(settings: #"{"environment":"production","tls":{"caFile":null,"verify":false}}"#, names: ["outbound.json", "tls", "verify"])
    }

    func testOutOfRangeOrFractionalNumbersAreConfigurationErrors() {
        for member in [#""concurrency":0"#, #""perHostConcurrency":-1"#, #""timeoutMs":1.5"#, #""connectTimeoutMs":"5000""#,
                       #""maxJobBytes":0"#] {
            let field = String(member.dropFirst().prefix { $0 != "\"" })
            assertError(settings: #"{"environment":"production",\#(member)}"#, names: ["outbound.json", field])
        }
        assertError(settings: #"{"environment":"production","retry":{"maxAttempts":0}}"#, names: ["retry", "maxAttempts"])
        assertError(settings: #"{"environment":"production","retry":{"baseDelayMs":5000,"maxDelayMs":1000}}"#, names: ["retry", "baseDelayMs"])
    }

    func testIdempotencyHeaderNullTurnsItOff() throws {
        XCTAssertNil(try load(settings: #"{"environment":"production","idempotencyHeader":null}"#).settings.idempotencyHeader)
    }

    func testIdempotencyHeaderMustDifferFromTheClientIdHeader() {
        assertError(settings: #"{"environment":"production","idempotencyHeader":"epic-client-id"}"#, names: ["idempotencyHeader"])
    }

    func testHeaderNamesInSettingsMustBeTokens() {
        assertError(settings: #"{"environment":"production","clientIdHeader":"Epic Client ID"}"#, names: ["clientIdHeader"])
        assertError(settings: #"{"environment":"production","idempotencyHeader":"Idem:Key"}"#, names: ["idempotencyHeader"])
        assertError(settings: #"{"environment":"production","idempotencyHeader":false}"#, names: ["idempotencyHeader"])
    }

    func testHeaderNamesInSettingsMayNotBeHeadersTheDispatcherOwns() {
        // Section 3 lists Host, Content-Length, Transfer-Encoding, Connection and Expect as the
        // dispatcher's own; a clientIdHeader of "Host" would send `Host: <clientId>` to the receiver.
        for name in ["Host", "content-length", "Transfer-Encoding", "Connection", "Expect"] {
            assertError(settings: #"{"environment":"production","clientIdHeader":"\#(name)"}"#, names: ["outbound.json", "clientIdHeader"])
            assertError(settings: #"{"environment":"production","idempotencyHeader":"\#(name)"}"#, names: ["outbound.json", "idempotencyHeader"])
        }
    }

    func testRelativeAuditLogIsResolvedAgainstTheSpool() throws {
        XCTAssertEqual(try load(settings: #"{"environment":"production","auditLog":"logs/outbound.jsonl"}"#).settings.auditLogPath,
                       "\(spoolPath)/logs/outbound.jsonl")
    }

    func testAbsoluteAuditLogIsKept() throws {
        XCTAssertEqual(try load(settings: #"{"environment":"production","auditLog":"/var/log/outbound/audit.jsonl"}"#).settings.auditLogPath,
                       "/var/log/outbound/audit.jsonl")
    }

    func testCaFileThatDoesNotExistIsAConfigurationError() {
        assertError(settings: #"{"environment":"production","tls":{"caFile":"missing-ca.pem"}}"#,
                    names: ["outbound.json", "caFile", "missing-ca.pem"])
    }

    func testCaFileIsResolvedAgainstTheConfigFolder() throws {
        try write("ca.pem", "-----BEGIN CERTIFICATE-----\n")
        XCTAssertEqual(try load(settings: #"{"environment":"production","tls":{"caFile":"ca.pem"}}"#).settings.caFile,
                       "\(configPath)/ca.pem")
    }

    func testMissingOutboundJsonIsAConfigurationError() throws {
        try write("clients.json", Self.goodClients)
        XCTAssertThrowsError(try ConfigLoader(directory: configPath, spoolDirectory: spoolPath).load()) { error in
            XCTAssertTrue("\(error)".contains("outbound.json"), "\(error)")
        }
    }

    func testInvalidJSONInConfigNamesTheFile() {
        assertError(settings: #"{"environment":"production",}"#, names: ["outbound.json"])
        assertError(clients: #"{"clients":[}"#, names: ["clients.json"])
        assertError(settings: #"["environment"]"#, names: ["outbound.json"])
    }

    // MARK: clients.json

    func testMissingClientsJsonIsAConfigurationError() throws {
        try write("outbound.json", #"{"environment":"production"}"#)
        XCTAssertThrowsError(try ConfigLoader(directory: configPath, spoolDirectory: spoolPath).load()) { error in
            XCTAssertTrue("\(error)".contains("clients.json"), "\(error)")
        }
    }

    func testClientsMustBeAnArray() {
        assertError(clients: "{}", names: ["clients.json", "clients"])
        assertError(clients: #"{"clients":{}}"#, names: ["clients.json", "clients"])
        assertError(clients: #"{"clients":[],"extra":1}"#, names: ["clients.json", "extra"])
    }

    func testUnknownFieldInAClientEntryNamesTheFileTheEntryAndTheField() {
        assertError(clients: clients(record("c-0"), record("c-1", #""colour":"blue""#)), names: ["clients.json", "clients[1]", "colour"])
    }

    func testUnknownFieldInAClientTlsObjectIsNamed() throws {
        try write("client.pem", "cert")
        try write("client.key", "key")
        assertError(clients: clients(record("c-0", #""tls":{"certFile":"client.pem","keyFile":"client.key","password":"x"}"#)),
                    names: ["clients.json", "clients[0]", "password"])
    }

    func testDuplicateClientIdsAreAConfigurationError() {
        assertError(clients: clients(record("c-0"), record("c-0")), names: ["clients.json", "clients[1]", "clients[0]", "duplicate"])
    }

    func testBadStatusIsAConfigurationError() {
        for value in [#""enabled""#, #""Active""#, "true"] {
            assertError(clients: clients(#"{"clientId":"c-0","environment":"production","status":\#(value),"endpoints":["https://a.example/"]}"#),
                        names: ["clients.json", "clients[0]", "status"])
        }
    }

    func testMissingStatusIsAConfigurationError() {
        assertError(clients: clients(#"{"clientId":"c-0","environment":"production","endpoints":["https://a.example/"]}"#),
                    names: ["clients.json", "clients[0]", "status"])
    }

    func testBadClientEnvironmentIsAConfigurationError() {
        assertError(clients: clients(#"{"clientId":"c-0","environment":"prod","status":"active","endpoints":["https://a.example/"]}"#),
                    names: ["clients.json", "clients[0]", "environment"])
    }

    func testMissingOrEmptyClientIdIsAConfigurationError() {
        assertError(clients: clients(#"{"environment":"production","status":"active","endpoints":["https://a.example/"]}"#),
                    names: ["clients.json", "clients[0]", "clientId"])
        assertError(clients: clients(record("")), names: ["clients.json", "clients[0]", "clientId"])
    }

    func testMissingEndpointsIsAConfigurationError() {
        assertError(clients: clients(#"{"clientId":"c-0","environment":"production","status":"active"}"#),
                    names: ["clients.json", "clients[0]", "endpoints"])
        assertError(clients: clients(#"{"clientId":"c-0","environment":"production","status":"active","endpoints":[]}"#),
                    names: ["clients.json", "clients[0]", "endpoints"])
    }

    func testEndpointWithAQueryStringIsAConfigurationError() {
        assertError(clients: clients(#"{"clientId":"c-0","environment":"production","status":"active","endpoints":["https://a.example/hooks/?key=1"]}"#),
                    names: ["clients.json", "clients[0]", "query"])
    }

    func testEndpointThatIsNotAnAbsoluteHttpUrlIsAConfigurationError() {
        for endpoint in ["ftp://a.example/hooks/", "/hooks/", "https://user:pw@a.example/hooks/", "https://a.example/hooks/#x"] {
            assertError(clients: clients(#"{"clientId":"c-0","environment":"production","status":"active","endpoints":["\#(endpoint)"]}"#),
                        names: ["clients.json", "clients[0]", "endpoint"])
        }
    }

    func testScopesAreOptional() throws {
        let record = try XCTUnwrap(try load(clients: clients(record("c-0"))).registry.record(for: "c-0"))
        XCTAssertNil(record.scopes)
    }

    func testScopesMustBeStrings() {
        assertError(clients: clients(record("c-0", #""scopes":"ADT.Notify""#)), names: ["clients[0]", "scopes"])
        assertError(clients: clients(record("c-0", #""scopes":[1]"#)), names: ["clients[0]", "scopes"])
    }

    func testClientCertificateFilesThatDoNotExistAreAConfigurationError() throws {
        try write("client.key", "key")
        assertError(clients: clients(record("c-0"), record("c-1", #""tls":{"certFile":"missing.pem","keyFile":"client.key"}"#)),
                    names: ["clients.json", "clients[1]", "certFile", "missing.pem"])
        try write("client.pem", "cert")
        assertError(clients: clients(record("c-0", #""tls":{"certFile":"client.pem","keyFile":"nokey.key"}"#)),
                    names: ["clients.json", "clients[0]", "keyFile", "nokey.key"])
    }

    func testClientTlsNeedsBothCertAndKey() throws {
        try write("client.pem", "cert")
        assertError(clients: clients(record("c-0", #""tls":{"certFile":"client.pem"}"#)), names: ["clients[0]", "keyFile"])
    }

    func testClientCertificateFilesAreResolvedAgainstTheConfigFolder() throws {
        try write("client.pem", "cert")
        try write("client.key", "key")
        let record = try XCTUnwrap(try load(clients: clients(record("c-0", #""tls":{"certFile":"client.pem","keyFile":"client.key"}"#)))
            .registry.record(for: "c-0"))
        XCTAssertEqual(record.certFile, "\(configPath)/client.pem")
        XCTAssertEqual(record.keyFile, "\(configPath)/client.key")
    }

    func testApplicationDefaultsToTheClientId() throws {
        XCTAssertEqual(try load(clients: clients(record("c-0"))).registry.record(for: "c-0")?.application, "c-0")
    }

    func testRegistryLooksUpEveryRecordAndCountsActiveOnes() throws {
        let registry = try load(clients: clients(
            record("c-0"),
            #"{"clientId":"c-1","environment":"production","status":"inactive","endpoints":["https://b.example/"]}"#)).registry
        XCTAssertEqual(registry.count, 2)
        XCTAssertEqual(registry.activeCount, 1)
        XCTAssertEqual(registry.record(for: "c-1")?.status, .inactive)
        XCTAssertNil(registry.record(for: "c-2"))
    }

    /// A record's fields are boxed: equality still compares them, not the boxes.
    func testRecordsLoadedTwiceAreEqualAndADifferentFieldMakesThemUnequal() throws {
        try write("client.pem", "cert")
        try write("client.key", "key")
        try write("other.key", "key")
        let tls = #""tls":{"certFile":"client.pem","keyFile":"client.key"}"#
        let first = try XCTUnwrap(try load(clients: clients(record("c-0", tls))).registry.record(for: "c-0"))
        let second = try XCTUnwrap(try load(clients: clients(record("c-0", tls))).registry.record(for: "c-0"))
        XCTAssertEqual(first, second, "two loads of the same file")
        let otherKey = try XCTUnwrap(try load(clients: clients(record("c-0", #""tls":{"certFile":"client.pem","keyFile":"other.key"}"#)))
            .registry.record(for: "c-0"))
        XCTAssertNotEqual(first, otherKey, "the records differ in their keyFile only")
    }

    // MARK: the files themselves (issue 11: config through a symlink)

    private func loadFolder() throws -> Configuration {
        try ConfigLoader(directory: configPath, spoolDirectory: spoolPath).load()
    }

    private func folderError() -> String {
        do {
            _ = try loadFolder()
            XCTFail("expected a configuration error")
            return ""
        } catch {
            return "\(error)"
        }
    }

    func testConfigFilesMayBeSymlinks() throws {
        let elsewhere = root.appendingPathComponent("etc")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        try Data(#"{"environment":"non-production"}"#.utf8).write(to: elsewhere.appendingPathComponent("outbound.json"))
        try Data(Self.goodClients.utf8).write(to: elsewhere.appendingPathComponent("clients.json"))
        for name in ["outbound.json", "clients.json"] {
            try FileManager.default.createSymbolicLink(atPath: "\(configPath)/\(name)", withDestinationPath: elsewhere.appendingPathComponent(name).path)
        }
        XCTAssertEqual(try loadFolder().registry.count, 1)
    }

    func testEachFailureOfAConfigFileHasItsOwnMessage() throws {
        try write("clients.json", Self.goodClients)
        try FileManager.default.createSymbolicLink(atPath: "\(configPath)/outbound.json", withDestinationPath: "\(configPath)/nowhere.json")
        XCTAssertTrue(folderError().contains("symlink whose target does not exist"), folderError())
        try FileManager.default.removeItem(atPath: "\(configPath)/outbound.json")
        try FileManager.default.createDirectory(atPath: "\(configPath)/outbound.json", withIntermediateDirectories: false)
        XCTAssertTrue(folderError().contains("a folder, not a file"), folderError())
        try FileManager.default.removeItem(atPath: "\(configPath)/outbound.json")
        try Data(count: ConfigLoader.maxFileBytes + 1).write(to: URL(fileURLWithPath: "\(configPath)/outbound.json"))
        XCTAssertTrue(folderError().contains("at most \(ConfigLoader.maxFileBytes)"), folderError())
        try FileManager.default.removeItem(atPath: "\(configPath)/outbound.json")
        XCTAssertTrue(folderError().contains("does not exist"), folderError())
    }
}
