import Foundation
import XCTest
@testable import OutboundCore

/// Contract section 12: the gate rule, the token cache's decisions, token request bytes and
/// token response classification, all without I/O; one signing round trip through openssl.
final class OAuthTests: XCTestCase {
    private func oauthRecord(secret: String = "s3cr3t canary") throws -> ClientRecord {
        let auth = OAuthClientAuth(tokenURL: try Fixture.url("http://127.0.0.1:9/token"), scope: "system/Patient.read",
                                   credential: .clientSecret(ClientSecret(value: secret, file: "/cfg/secret")))
        return ClientRecord(clientId: Fixture.clientId, application: "Acme", environment: .nonProduction, status: .active,
                            scopes: nil, endpoints: [Endpoint(url: try Fixture.url("https://acme.example/hooks/"))], auth: auth)
    }

    func testJobOfOAuthClientCarryingAuthorizationIsRefused() throws {
        let gate = Gate(registry: ClientRegistry([try oauthRecord()]), environment: .nonProduction)
        let job = try Fixture.job(url: "https://acme.example/hooks/a", headers: [HeaderField(name: "authorization", value: "x")])
        guard case .refused(let reason, _) = gate.check(job) else { return XCTFail("expected a refusal") }
        XCTAssertEqual(reason, .authorizationHeaderNotAllowed)
        guard case .allowed = gate.check(try Fixture.job(url: "https://acme.example/hooks/a")) else { return XCTFail("plain job refused") }
    }

    func testOneFetchForManyJobsThenReuseUntilRefreshTime() throws {
        let client = try oauthRecord()
        var cache = TokenCache(baseDelay: 1, maxDelay: 600)
        guard case .startFetch(let plan) = cache.authorization(for: client, waiter: 1, now: 100) else { return XCTFail() }
        for waiter in 2...64 {
            XCTAssertEqual(cache.authorization(for: client, waiter: waiter, now: 100.5), .waitForFetch)
        }
        let token = AccessToken(value: "tok", expiresIn: 300)
        XCTAssertEqual(cache.fetchSucceeded(clientId: client.clientId, fetchId: plan.fetchId, token: token), Array(1...64))
        // Refresh time: 100 + 300 - min(30, 60) = 370.
        XCTAssertEqual(cache.authorization(for: client, waiter: 65, now: 369.9), .ready(token))
        guard case .readyAndRefresh(token, let refresh) = cache.authorization(for: client, waiter: 66, now: 370) else { return XCTFail() }
        XCTAssertEqual(cache.authorization(for: client, waiter: 67, now: 371), .ready(token), "one refresh at a time")
        XCTAssertEqual(cache.fetchSucceeded(clientId: client.clientId, fetchId: refresh.fetchId, token: token), [])
    }

    func testShortLivedTokenRefreshesAtNinetyPercent() {
        XCTAssertEqual(TokenCache.refreshTime(start: 0, life: 2), 1.8, accuracy: 1e-9)
        XCTAssertEqual(TokenCache.refreshTime(start: 0, life: 3600), 3540)
    }

    func testFailedFetchDefersWaitersAndBlocksNewFetchesUntilBackoffEnds() throws {
        let client = try oauthRecord()
        var cache = TokenCache(baseDelay: 2, maxDelay: 600)
        guard case .startFetch(let plan) = cache.authorization(for: client, waiter: 1, now: 10) else { return XCTFail() }
        let failure = TokenFailure.refused(status: 401, code: "invalid_client")
        let verdict = cache.fetchFailed(clientId: client.clientId, fetchId: plan.fetchId, failure: failure, now: 11)
        XCTAssertEqual(verdict, TokenCache.FailureVerdict(deferred: [1], retryAt: 13, failure: failure))
        XCTAssertEqual(failure.jobError, "auth: invalid_client (token endpoint answered 401)")
        XCTAssertEqual(cache.authorization(for: client, waiter: 2, now: 12), .unavailable(until: 13, failure: failure))
        guard case .startFetch = cache.authorization(for: client, waiter: 3, now: 13) else { return XCTFail("backoff over") }
    }

    func testUnauthorizedDropsTheTokenAndAllowsOneFreeRetry() throws {
        let client = try oauthRecord()
        var cache = TokenCache(baseDelay: 1, maxDelay: 600)
        guard case .startFetch(let plan) = cache.authorization(for: client, waiter: 1, now: 0) else { return XCTFail() }
        let token = AccessToken(value: "revoked", expiresIn: 300)
        _ = cache.fetchSucceeded(clientId: client.clientId, fetchId: plan.fetchId, token: token)
        XCTAssertEqual(cache.targetAnswered401(client: client, tokenUsed: token, alreadyRetried: false), .retryWithFreshToken)
        guard case .startFetch = cache.authorization(for: client, waiter: 2, now: 1) else { return XCTFail("token not dropped") }
        XCTAssertEqual(cache.targetAnswered401(client: client, tokenUsed: token, alreadyRetried: true), .outcome)
    }

    func testReloadOfChangedRecordDropsItsTokenAndReleasesWaiters() throws {
        let client = try oauthRecord()
        var cache = TokenCache(baseDelay: 1, maxDelay: 600)
        guard case .startFetch(let plan) = cache.authorization(for: client, waiter: 7, now: 0) else { return XCTFail() }
        XCTAssertEqual(cache.reloaded(ClientRegistry([client])), [], "unchanged record keeps its fetch")
        XCTAssertEqual(cache.reloaded(ClientRegistry([try oauthRecord(secret: "new")])), [7])
        XCTAssertEqual(cache.fetchSucceeded(clientId: client.clientId, fetchId: plan.fetchId,
                                            token: AccessToken(value: "old", expiresIn: 60)), [], "stale fetch ignored")
    }

    func testClientSecretTokenRequestBytes() throws {
        let settings = Settings(environment: .nonProduction, auditLogPath: "/dev/null")
        let request = try TokenRequestBuilder(settings: settings).request(for: try oauthRecord(secret: "a b:c"), now: 0)
        XCTAssertEqual(request.url, "http://127.0.0.1:9/token")
        XCTAssertEqual(String(decoding: request.body ?? [], as: UTF8.self),
                       "grant_type=client_credentials&scope=system%2FPatient.read")
        let basic = "Basic " + Data("\(Fixture.clientId):a+b%3Ac".utf8).base64EncodedString()
        XCTAssertTrue(request.headerLines.contains("Authorization: \(basic)"))
        XCTAssertTrue(request.collectsResponseBody)
    }

    func testTokenResponsesAreClassified() {
        func classify(_ status: Int, _ body: String) -> Result<AccessToken, TokenFailure> {
            TokenFetchResult.classify(.response(status: status, retryAfter: nil), body: Array(body.utf8))
        }
        XCTAssertEqual(try classify(200, #"{"access_token":"t","token_type":"bearer","expires_in":2}"#).get(),
                       AccessToken(value: "t", expiresIn: 2))
        XCTAssertEqual(classify(401, #"{"error":"invalid_client"}"#), .failure(.refused(status: 401, code: "invalid_client")))
        XCTAssertEqual(classify(503, ""), .failure(.unavailable(status: 503, retryAfter: nil)))
        XCTAssertEqual(classify(302, ""), .failure(.unexpectedStatus(302)))
        guard case .failure(.invalidResponse) = classify(200, #"{"access_token":"t","token_type":"mac"}"#) else { return XCTFail() }
    }

    func testRS384AssertionVerifiesWithOpenSSL() throws {
        let folder = try Fixture.temporaryFolder("oauth-sign")
        defer { try? FileManager.default.removeItem(at: folder) }
        let keyPath = folder.appendingPathComponent("key.pem").path
        try run(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", keyPath])
        try run(["pkey", "-in", keyPath, "-pubout", "-out", folder.appendingPathComponent("pub.pem").path])
        let pem = try Data(contentsOf: URL(fileURLWithPath: keyPath))
        let signingKey = try XCTUnwrap(SigningKey(pem: Array(pem)))
        let key = AssertionKey(key: signingKey, algorithm: .rs384, keyId: "k1", keyFile: keyPath, fingerprint: "f")
        let jwt = try ClientAssertion.make(key: key, clientId: "cid", audience: "https://t.example/token", now: 1000)
        let parts = jwt.split(separator: ".").map(String.init)
        XCTAssertEqual(parts.count, 3)
        try Data(parts[0..<2].joined(separator: ".").utf8).write(to: folder.appendingPathComponent("input"))
        try XCTUnwrap(Data(base64URL: parts[2])).write(to: folder.appendingPathComponent("sig"))
        try run(["dgst", "-sha384", "-verify", folder.appendingPathComponent("pub.pem").path,
                 "-signature", folder.appendingPathComponent("sig").path, folder.appendingPathComponent("input").path])
        let claims = try JSONSerialization.jsonObject(with: try XCTUnwrap(Data(base64URL: parts[1]))) as? [String: Any]
        XCTAssertEqual(claims?["iss"] as? String, "cid")
        XCTAssertEqual(claims?["sub"] as? String, "cid")
        XCTAssertEqual(claims?["aud"] as? String, "https://t.example/token")
        XCTAssertEqual(claims?["exp"] as? Int, 1240)
        XCTAssertEqual(SigningKey(pem: Array("not a key".utf8)) == nil, true)
    }

    private func run(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "openssl \(arguments.joined(separator: " ")) failed")
    }
}

private extension Data {
    init?(base64URL text: String) {
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while standard.count % 4 != 0 { standard += "=" }
        self.init(base64Encoded: standard)
    }
}
