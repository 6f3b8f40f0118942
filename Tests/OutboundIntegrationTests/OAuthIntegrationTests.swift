import Foundation
import OutboundTestSupport
import XCTest

/// Contract section 12 end to end: the real binary against a real token endpoint on 127.0.0.1
/// (`TokenEndpoint`: it checks the assertion's signature with openssl, every claim and the
/// jti, and issues tokens that live 2 s) and a target that accepts only its current tokens.
final class OAuthIntegrationTests: XCTestCase {
    var sandbox: SpoolSandbox!
    var server: LoopbackHTTPServer!
    var endpoint: TokenEndpoint!
    var keyFile: URL!

    static let secretCanary = "CANARY-SECRET-4f1d9c"
    static let keyCanary = "CANARY-KEY-8b2e7a"

    override func tearDown() {
        server?.stop()
        server = nil
        sandbox = nil
        super.tearDown()
    }

    enum Kind { case rs384, es384, secret }

    /// A sandbox whose active client authenticates with `kind`; the token endpoint and the
    /// target share one loopback server (`/oauth2/token` and `/hooks/`).
    static let plainClient = "2d7e4f10-8a3b-4c6d-9e5f-0a1b2c3d4e5f"

    func makeSandbox(_ kind: Kind = .rs384, lifetime: Int = 2, settings: [String: Any] = [:]) throws {
        sandbox = try SpoolSandbox()
        let credential: TokenEndpoint.Credential
        var auth: [String: Any] = ["type": "oauth2", "scope": "system/Patient.read"]
        switch kind {
        case .rs384, .es384:
            let alg = kind == .rs384 ? "RS384" : "ES384"
            let keys = try JOSE.generateKeyPair("client", rsa: kind == .rs384, in: sandbox.config, canary: Self.keyCanary)
            keyFile = keys.privateKey
            credential = .assertion(publicKeyFile: keys.publicKey.path, alg: alg, keyId: "acme-np-2026")
            auth["assertion"] = ["keyFile": "client.pem", "alg": alg, "keyId": "acme-np-2026"]
        case .secret:
            let secretFile = sandbox.config.appendingPathComponent("acme.secret")
            try Data("\(Self.secretCanary)\n".utf8).write(to: secretFile)
            chmod(secretFile.path, 0o600)
            credential = .secret(Self.secretCanary)
            auth["clientSecretFile"] = "acme.secret"
        }
        endpoint = TokenEndpoint(clientId: SpoolSandbox.activeClient, credential: credential, lifetime: lifetime)
        server = try LoopbackHTTPServer(handler: endpoint.handler)
        endpoint.serve(at: server.baseURL)
        auth["tokenUrl"] = endpoint.url
        try sandbox.writeSettings(settings)
        let record: [String: Any] = [
            "clientId": SpoolSandbox.activeClient, "application": "Acme Bed Board", "environment": "non-production",
            "status": "active", "scopes": [SpoolSandbox.scopedService], "endpoints": ["\(server.baseURL)/hooks/"], "auth": auth,
        ]
        // A second client of the same partner without auth: header-only, as before OAuth.
        let plain: [String: Any] = [
            "clientId": Self.plainClient, "application": "Acme Census", "environment": "non-production",
            "status": "active", "endpoints": ["\(server.baseURL)/hooks/"],
        ]
        let data = try JSONSerialization.data(withJSONObject: ["clients": [record, plain]], options: [.sortedKeys])
        try data.write(to: sandbox.config.appendingPathComponent("clients.json"))
    }

    func drop(_ count: Int, prefix: String = "job") throws {
        for index in 0..<count {
            try sandbox.drop(String(format: "\(prefix)-%05d.json", index), job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/\(prefix)\(index)"))
        }
    }

    @discardableResult
    func drain(_ extra: [String] = [], file: StaticString = #filePath, line: UInt = #line) throws -> OutboundProcess.Result {
        let result = try sandbox.drain(extra, timeout: 120)
        XCTAssertEqual(result.status, 0, "drain exit status; stderr: \(result.standardError)", file: file, line: line)
        return result
    }

    var targetRequests: [RecordedRequest] { server.requests.filter { $0.path != TokenEndpoint.tokenPath } }

    // MARK: one token for many jobs

    func testAThousandJobsNeedOneTokenRequest() throws {
        try makeSandbox(.rs384, lifetime: 300)
        try drop(1000)
        try drain()
        XCTAssertEqual(sandbox.jobs(in: "delivered").count, 1000)
        XCTAssertEqual(endpoint.tokenRequestCount, 1, "one token for every job, not one each")
        XCTAssertEqual(endpoint.problems, [])
        XCTAssertEqual(endpoint.unauthorizedCount, 0)
        let token = try XCTUnwrap(endpoint.issued.first)
        let calls = targetRequests
        XCTAssertEqual(calls.count, 1000)
        XCTAssertTrue(calls.allSatisfy { $0.header("Authorization") == "Bearer \(token)" && $0.header("Epic-Client-ID") == SpoolSandbox.activeClient },
                      "each call carries the bearer token and still the client-ID header")
        let lines = sandbox.audit("token")
        XCTAssertEqual(lines.count, 1)
        XCTAssertEqual(lines.first?["status"] as? Int, 200)
        XCTAssertEqual(lines.first?["expiresIn"] as? Int, 300)
        XCTAssertEqual(lines.first?["clientId"] as? String, SpoolSandbox.activeClient)
        XCTAssertNotNil(lines.first?["ms"] as? Int)
    }

    func testSixtyFourJobsAtOnceWithNoTokenMakeExactlyOneTokenRequest() throws {
        try makeSandbox(.es384, lifetime: 300, settings: ["concurrency": 64])
        endpoint.delayAnswers(milliseconds: 300)
        try drop(64)
        try drain()
        XCTAssertEqual(sandbox.jobs(in: "delivered").count, 64)
        XCTAssertEqual(endpoint.tokenRequestCount, 1, "single flight: the other 63 jobs waited for the one request")
        XCTAssertEqual(endpoint.problems, [])
        XCTAssertEqual(endpoint.unauthorizedCount, 0, "no call went out without a token")
    }

    func testAJobWaitingForATokenHoldsNoTransferSlot() throws {
        // One transfer slot. The OAuth client's job is first and its token takes 1.5 s; the
        // header-only client's jobs go meanwhile: the waiting job does not sit in the slot.
        try makeSandbox(.rs384, lifetime: 60, settings: ["concurrency": 1])
        endpoint.delayAnswers(milliseconds: 1500)
        endpoint.leaveOpen(pathPrefix: "/hooks/plain")
        try sandbox.drop("a-oauth.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/oauth"))
        for index in 0..<5 {
            try sandbox.drop("b-plain-\(index).json", job: ["clientId": Self.plainClient, "url": "\(server.baseURL)/hooks/plain\(index)",
                                                            "body": "{}"])
        }
        try drain()
        XCTAssertEqual(sandbox.jobs(in: "delivered").count, 6)
        let tokenAsked = try XCTUnwrap(server.requests.first { $0.path == TokenEndpoint.tokenPath }).receivedAt
        let plain = targetRequests.filter { $0.path.hasPrefix("/hooks/plain") }
        XCTAssertEqual(plain.count, 5)
        XCTAssertTrue(plain.allSatisfy { $0.receivedAt.timeIntervalSince(tokenAsked) < 1.0 },
                      "the header-only jobs went while the token was on its way")
        XCTAssertTrue(plain.allSatisfy { $0.header("Authorization") == nil }, "a header-only client's calls carry no token")
        let oauth = try XCTUnwrap(targetRequests.first { $0.path == "/hooks/oauth" })
        XCTAssertGreaterThan(oauth.receivedAt.timeIntervalSince(tokenAsked), 1.4, "the OAuth job went once its token came")
    }

    // MARK: kinds of credentials

    func testRS384AssertionEndToEnd() throws {
        try assertDeliveredEndToEnd(.rs384)
    }

    func testES384AssertionEndToEnd() throws {
        try assertDeliveredEndToEnd(.es384)
    }

    func testClientSecretEndToEnd() throws {
        try assertDeliveredEndToEnd(.secret)
    }

    private func assertDeliveredEndToEnd(_ kind: Kind, file: StaticString = #filePath, line: UInt = #line) throws {
        try makeSandbox(kind, lifetime: 60)
        try drop(3)
        try drain(file: file, line: line)
        XCTAssertEqual(sandbox.jobs(in: "delivered").count, 3, file: file, line: line)
        XCTAssertEqual(endpoint.problems, [], file: file, line: line)
        XCTAssertEqual(endpoint.tokenRequestCount, 1, file: file, line: line)
        XCTAssertEqual(endpoint.unauthorizedCount, 0, file: file, line: line)
        try assertNoSecretsAnywhere(file: file, line: line)
    }

    func testASoapJobOfAnOAuthClientCarriesItsHeadersTheClientIdAndTheToken() throws {
        try makeSandbox(.es384, lifetime: 60)
        let envelope = #"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">"#
            + #"<soap:Body><NotifyAdmit xmlns="urn:acme"><PatientId>12345</PatientId></NotifyAdmit></soap:Body></soap:Envelope>"#
        try sandbox.drop("soap.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/soap/PatientService", body: envelope, extra: [
            "headers": ["Content-Type": "text/xml; charset=utf-8", "SOAPAction": #""urn:acme:PatientService#NotifyAdmit""#],
        ]))
        try drain()
        XCTAssertEqual(sandbox.jobs(in: "delivered"), ["soap.json"])
        let call = try XCTUnwrap(targetRequests.first)
        XCTAssertEqual(call.header("Content-Type"), "text/xml; charset=utf-8")
        XCTAssertEqual(call.header("SOAPAction"), #""urn:acme:PatientService#NotifyAdmit""#)
        XCTAssertEqual(call.header("Epic-Client-ID"), SpoolSandbox.activeClient)
        XCTAssertEqual(call.header("Authorization"), "Bearer \(try XCTUnwrap(endpoint.issued.first))")
        XCTAssertEqual(call.bodyText, envelope)
    }

    // MARK: refresh and 401

    func testATenSecondRunRefreshesBeforeExpiryWithNo401() throws {
        try makeSandbox(.rs384, lifetime: 2)
        let running = try sandbox.startRun()
        defer { running.signal(SIGKILL); running.wait(timeout: 5) }
        let start = Date()
        var dropped = 0
        while Date().timeIntervalSince(start) < 10 {
            try sandbox.drop(String(format: "tick-%05d.json", dropped), job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/t\(dropped)"))
            dropped += 1
            usleep(20_000)
        }
        XCTAssertTrue(SpoolSandbox.waitUntil(timeout: 10) { self.sandbox.jobs(in: "delivered").count == dropped })
        running.signal(SIGTERM)
        XCTAssertEqual(running.wait(timeout: 20), 0)
        XCTAssertEqual(endpoint.unauthorizedCount, 0, "every call carried a current token: refreshed before expiry")
        XCTAssertEqual(endpoint.problems, [], "every assertion was fresh (no reused jti)")
        // 10 s of 2-second tokens refreshed at 1.8 s: about 6 requests, never one per job.
        XCTAssertGreaterThanOrEqual(endpoint.tokenRequestCount, 5)
        XCTAssertLessThanOrEqual(endpoint.tokenRequestCount, 8)
        XCTAssertEqual(sandbox.audit("token").count, endpoint.tokenRequestCount, "one token line per token request")
        // Each refresh was asked for while the previous token was still good: at 90 % of its
        // life (1.8 s after the previous request), plus the 20 ms until a job needed it, not
        // once it had run out (2 s after that request was sent, or later). 1.98 leaves a
        // loaded machine 160 ms and still catches a refresh made at expiry.
        let requested = endpoint.requestedAt
        for (previous, next) in zip(requested, requested.dropFirst()) {
            XCTAssertLessThan(next.timeIntervalSince(previous), 1.98, "a refresh came only at the token's expiry")
        }
    }

    func testA401WithARevokedTokenIsHealedByOneRefetch() throws {
        try makeSandbox(.rs384, lifetime: 300)
        let running = try sandbox.startRun()
        defer { running.signal(SIGKILL); running.wait(timeout: 5) }
        try drop(1, prefix: "before")
        XCTAssertTrue(SpoolSandbox.waitUntil { self.sandbox.jobs(in: "delivered").count == 1 })
        endpoint.revokeAll()
        try drop(1, prefix: "after")
        XCTAssertTrue(SpoolSandbox.waitUntil { self.sandbox.jobs(in: "delivered").count == 2 })
        running.signal(SIGTERM)
        XCTAssertEqual(running.wait(timeout: 20), 0)
        XCTAssertEqual(endpoint.unauthorizedCount, 1, "the revoked token was refused once")
        XCTAssertEqual(endpoint.tokenRequestCount, 2, "one refetch")
        let delivered = try XCTUnwrap(sandbox.audit("delivered", job: "after-00000").first)
        XCTAssertEqual(delivered["attempt"] as? Int, 1, "the free retry after a 401 is not counted as an attempt")
        XCTAssertEqual(sandbox.audit("deferred").count, 0)
    }

    // MARK: token endpoint failures

    func testTokenEndpoint503ThenTokenDelivers() throws {
        try makeSandbox(.rs384, lifetime: 300)
        endpoint.script([.respond(status: 503)])
        try drop(2)
        try drain()
        XCTAssertEqual(sandbox.jobs(in: "delivered").count, 2)
        let deferred = sandbox.audit("deferred")
        XCTAssertEqual(deferred.count, 2, "both waiting jobs deferred once")
        XCTAssertTrue(deferred.allSatisfy { ($0["error"] as? String)?.hasPrefix("auth: token endpoint answered 503") == true }, "\(deferred)")
        XCTAssertEqual(sandbox.audit("delivered").compactMap { $0["attempt"] as? Int }, [1, 1], "no attempt counted for the token")
        XCTAssertEqual(sandbox.audit("token").compactMap { $0["status"] as? Int }, [503, 200])
        XCTAssertEqual(endpoint.unauthorizedCount, 0, "nothing was sent to the target without a token")
        XCTAssertEqual(targetRequests.count, 2)
    }

    func testInvalidClientDefersThenAFixedKeyAndSighupDeliver() throws {
        try makeSandbox(.rs384, lifetime: 300, settings: ["retry": ["maxAttempts": 3, "baseDelayMs": 200, "maxDelayMs": 400, "maxAgeSeconds": 3600]])
        // The endpoint knows another key than the one configured.
        let registered = try JOSE.generateKeyPair("registered", rsa: true, in: sandbox.root)
        endpoint.accept(.assertion(publicKeyFile: registered.publicKey.path, alg: "RS384", keyId: "acme-np-2026"))
        let metricsFile = sandbox.root.appendingPathComponent("outbound.prom")
        let running = try sandbox.startRun(["--metrics-file", metricsFile.path])
        defer { running.signal(SIGKILL); running.wait(timeout: 5) }
        try drop(1)
        XCTAssertTrue(SpoolSandbox.waitUntil { !self.sandbox.audit("deferred").isEmpty })
        let deferred = try XCTUnwrap(sandbox.audit("deferred").first)
        XCTAssertEqual(deferred["error"] as? String, "auth: invalid_client (token endpoint answered 401)")
        XCTAssertEqual(sandbox.audit("token").first?["oauthError"] as? String, "invalid_client")
        XCTAssertEqual(targetRequests.count, 0, "nothing sent to the target without a token")

        // The operator installs the registered key and reloads.
        let fixed = try Data(contentsOf: registered.privateKey)
        try fixed.write(to: keyFile)
        running.signal(SIGHUP)
        XCTAssertTrue(SpoolSandbox.waitUntil(timeout: 10) { self.sandbox.jobs(in: "delivered").count == 1 }, sandbox.auditText)
        running.signal(SIGTERM)
        XCTAssertEqual(running.wait(timeout: 20), 0)
        XCTAssertEqual(sandbox.audit("delivered").first?["attempt"] as? Int, 1)
        XCTAssertEqual(sandbox.audit("failed").count, 0)

        // The token requests are counted by result; the deferrals for want of a token are not
        // attempts (nothing was sent).
        let metrics = try String(contentsOf: metricsFile, encoding: .utf8)
        let client = SpoolSandbox.activeClient
        XCTAssertTrue(metrics.contains("outbound_token_requests_total{client=\"\(client)\",result=\"invalid_client\"} "), metrics)
        XCTAssertTrue(metrics.contains("outbound_token_requests_total{client=\"\(client)\",result=\"ok\"} 1\n"), metrics)
        XCTAssertTrue(metrics.contains("outbound_attempts_total{result=\"2xx\"} 1\n"), metrics)
        XCTAssertFalse(metrics.contains("outbound_attempts_total{result=\"other\"}"), metrics)
    }

    func testARedirectFromTheTokenEndpointIsNotFollowed() throws {
        try makeSandbox(.rs384, lifetime: 60)
        endpoint.script([.respond(status: 302, headers: [HTTPHeaderField(name: "Location", value: "\(server.baseURL)/elsewhere/token")])])
        try drop(1)
        try drain()
        XCTAssertEqual(sandbox.jobs(in: "delivered").count, 1)
        let deferred = try XCTUnwrap(sandbox.audit("deferred").first)
        XCTAssertEqual(deferred["error"] as? String, "auth: token endpoint answered 302, a redirect, which is refused")
        XCTAssertFalse(server.requests.contains { $0.path.hasPrefix("/elsewhere") }, "the redirect was not followed")
        XCTAssertEqual(endpoint.tokenRequestCount, 2)
    }

    func testAStopWhileATokenRequestRunsPutsTheJobBackAndNotesTheRequest() throws {
        try makeSandbox(.rs384, lifetime: 60)
        endpoint.delayAnswers(milliseconds: 3000)
        let running = try sandbox.startRun()
        defer { running.signal(SIGKILL); running.wait(timeout: 5) }
        try drop(1)
        XCTAssertTrue(SpoolSandbox.waitUntil { self.endpoint.tokenRequestCount == 1 })
        running.signal(SIGTERM)
        XCTAssertEqual(running.wait(timeout: 20), 0, running.standardError)
        XCTAssertEqual(sandbox.jobs(in: "incoming"), ["job-00000.json"], "the waiting job is put back, not sent")
        XCTAssertEqual(targetRequests.count, 0)
        let line = try XCTUnwrap(sandbox.audit("token").first)
        XCTAssertEqual(line["error"] as? String, "no answer from the token endpoint before the process stopped")
        XCTAssertEqual(sandbox.audit("token").count, 1)
    }

    // MARK: configuration errors

    func testBadKeyFilesAreConfigurationErrorsNamingTheRecordAndField() throws {
        try makeSandbox(.rs384)
        func expectConfigError(_ words: [String], file: StaticString = #filePath, line: UInt = #line) throws {
            let result = try sandbox.drain()
            XCTAssertEqual(result.status, 78, file: file, line: line)
            for word in words {
                XCTAssertTrue(result.standardError.contains(word), "'\(word)' in: \(result.standardError)", file: file, line: line)
            }
            XCTAssertFalse(result.standardError.contains(Self.keyCanary), file: file, line: line)
            XCTAssertEqual(endpoint.tokenRequestCount, 0, file: file, line: line)
        }
        chmod(keyFile.path, 0o644)
        try expectConfigError(["clients.json", SpoolSandbox.activeClient, "auth.assertion.keyFile", "readable by everyone", "chmod o-r"])
        chmod(keyFile.path, 0o600)
        let ec = try JOSE.generateKeyPair("ec", rsa: false, in: sandbox.root)
        try Data(contentsOf: ec.privateKey).write(to: keyFile)
        try expectConfigError(["auth.assertion.keyFile", "alg"])
        try Data("not a key\n".utf8).write(to: keyFile)
        try expectConfigError(["auth.assertion.keyFile", "no unencrypted PEM private key"])
        try FileManager.default.removeItem(at: keyFile)
        try expectConfigError(["auth.assertion.keyFile", "does not exist"])
    }

    // MARK: secrets stay secret

    func testCanariesOfSecretAndKeyAndTokensNeverAppearInAnyOutput() throws {
        for kind in [Kind.secret, .rs384] {
            try makeSandbox(kind, lifetime: 60)
            endpoint.script([.respond(status: 503)])
            try drop(2)
            try sandbox.drop("refused.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/x",
                                                                   extra: ["headers": ["Authorization": "Bearer mine"]]))
            let result = try drain()
            XCTAssertEqual(sandbox.jobs(in: "delivered").count, 2)
            XCTAssertEqual(sandbox.jobs(in: "refused"), ["refused.json"])
            XCTAssertEqual(sandbox.reason(of: "refused.json", in: "refused")?["reason"] as? String, "authorization_header_not_allowed")
            XCTAssertFalse(endpoint.issued.isEmpty)
            try assertNoSecretsAnywhere(extraOutput: result.standardOutput + result.standardError)
        }
    }

    /// Canaries, issued tokens and assertions appear nowhere: audit log, sidecars, `status`
    /// (text and JSON), drain's output and stderr.
    private func assertNoSecretsAnywhere(extraOutput: String = "", file: StaticString = #filePath, line: UInt = #line) throws {
        var texts = [sandbox.auditText, extraOutput]
        let enumerator = FileManager.default.enumerator(at: sandbox.spool, includingPropertiesForKeys: nil)
        while let url = enumerator?.nextObject() as? URL {
            if url.lastPathComponent.hasSuffix(".reason") { texts.append((try? String(contentsOf: url, encoding: .utf8)) ?? "") }
        }
        for extra in [[], ["--json"]] {
            let status = try OutboundProcess.run(["status", "--spool", sandbox.spool.path, "--config", sandbox.config.path] + extra)
            texts.append(status.standardOutput + status.standardError)
        }
        let all = texts.joined(separator: "\n")
        XCTAssertTrue(all.contains("token") || all.contains("delivered"), "the outputs were read", file: file, line: line)
        var secrets = [Self.secretCanary, Self.keyCanary] + endpoint.issued
        secrets += endpoint.receivedAssertions.flatMap { $0.split(separator: ".").map(String.init) }
        for secret in secrets {
            XCTAssertFalse(all.contains(secret), "\(secret.prefix(12))… leaked into an output", file: file, line: line)
        }
    }

    // MARK: jwks

    func testJwksOutputVerifiesAnAssertionOutboundSigned() throws {
        for kind in [Kind.rs384, .es384] {
            try makeSandbox(kind, lifetime: 60)
            try drop(1)
            try drain()
            let assertion = try XCTUnwrap(endpoint.receivedAssertions.first)
            let result = try OutboundProcess.run(["jwks", "--config", sandbox.config.path, "--spool", sandbox.spool.path])
            XCTAssertEqual(result.status, 0, result.standardError)
            let document = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
            let keys = try XCTUnwrap(document["keys"] as? [[String: Any]])
            XCTAssertEqual(keys.count, 1)
            let jwk = keys[0]
            XCTAssertEqual(jwk["kid"] as? String, "acme-np-2026")
            XCTAssertEqual(jwk["use"] as? String, "sig")
            XCTAssertEqual(jwk["alg"] as? String, kind == .rs384 ? "RS384" : "ES384")
            XCTAssertNil(jwk["d"], "never the private part")
            let published = sandbox.root.appendingPathComponent("published.pem")
            try JOSE.writePublicKey(of: jwk, to: published)
            let parts = assertion.split(separator: ".").map(String.init)
            let signature = try XCTUnwrap(JOSE.base64URLDecode(parts[2]))
            XCTAssertTrue(JOSE.verify(signingInput: Data((parts[0] + "." + parts[1]).utf8), signature: signature,
                                      alg: jwk["alg"] as? String ?? "", publicKeyFile: published.path),
                          "the published key verifies what Outbound signed")
            XCTAssertFalse(result.standardOutput.contains(Self.keyCanary))
        }
    }

    func testValidateCheckAuthAsksTheTokenEndpointOnlyWhenAsked() throws {
        try makeSandbox(.rs384, lifetime: 60)
        let job = sandbox.root.appendingPathComponent("job.json")
        try JSONSerialization.data(withJSONObject: SpoolSandbox.job(url: "\(server.baseURL)/hooks/v")).write(to: job)
        let plain = try OutboundProcess.run(["validate", job.path, "--config", sandbox.config.path, "--spool", sandbox.spool.path])
        XCTAssertEqual(plain.status, 0, plain.standardError)
        XCTAssertEqual(endpoint.tokenRequestCount, 0, "no token endpoint is contacted by default")
        let checked = try OutboundProcess.run(["validate", "--check-auth", "--config", sandbox.config.path, "--spool", sandbox.spool.path])
        XCTAssertEqual(checked.status, 0, checked.standardOutput + checked.standardError)
        XCTAssertTrue(checked.standardOutput.contains("token endpoint ok"), checked.standardOutput)
        XCTAssertEqual(endpoint.tokenRequestCount, 1)
        endpoint.script([TokenEndpointAnswers.invalidClient])
        let refused = try OutboundProcess.run(["validate", "--check-auth", "--config", sandbox.config.path, "--spool", sandbox.spool.path])
        XCTAssertEqual(refused.status, 65)
        XCTAssertTrue(refused.standardOutput.contains("invalid_client"), refused.standardOutput)
        XCTAssertFalse((refused.standardOutput + refused.standardError).contains(endpoint.issued.first ?? "-"))
    }
}

/// Scripted answers of a token endpoint.
enum TokenEndpointAnswers {
    static let invalidClient = ServerAction.respond(status: 401, headers: [HTTPHeaderField(name: "Content-Type", value: "application/json")],
                                                    body: #"{"error":"invalid_client"}"#)
}
