import Foundation

/// An OAuth 2.0 token endpoint and a protected target in one, for `LoopbackHTTPServer`
/// (contract section 12), strict the way SMART Backend Services servers are.
///
/// - `POST /oauth2/token`: client credentials. With a public key it checks the client
///   assertion: the JWS signature through the `openssl` command line tool (a verifier that
///   shares no code with Outbound), header `alg`/`typ`/`kid`, claims `iss` = `sub` = the client
///   ID, `aud` = the token URL, `exp` after now and at most 300 s after `iat`, and a `jti` never
///   seen before. With a secret it checks HTTP Basic. A good request gets a fresh random token
///   living `lifetime` seconds; a bad one `401 invalid_client` (or `400 invalid_grant` for a
///   reused `jti`) and a line in `problems`.
/// - Any other path is the target: `204` for a request carrying a current token of this
///   endpoint (`Authorization: Bearer …`), `401` otherwise (counted in `unauthorizedCount`);
///   paths given to `leaveOpen(pathPrefix:)` answer `204` to anyone.
///
/// `@unchecked Sendable`: every `var` is read and written only while holding `lock`; the
/// handler runs on the server's connection threads.
public final class TokenEndpoint: @unchecked Sendable {
    /// How a client proves who it is.
    public enum Credential: Sendable {
        /// A client assertion signed with the private half of the PEM public key at `publicKeyFile`.
        case assertion(publicKeyFile: String, alg: String, keyId: String)
        /// HTTP Basic with this secret.
        case secret(String)
    }

    public static let tokenPath = "/oauth2/token"

    public let clientId: String
    private let lock = NSLock()
    private var credential: Credential
    private var tokenURL = ""
    private var lifetime: Int
    private var answerDelayMs = 0
    private var scripted: [ServerAction] = []
    private var seenJti: Set<String> = []
    private var tokens: [String: Date] = [:]
    private var issuedTokens: [String] = []
    private var issueTimes: [Date] = []
    private var arrivals: [Date] = []
    private var openPrefixes: [String] = []
    private var assertions: [String] = []
    private var tokenRequests = 0
    private var unauthorized = 0
    private var rejected: [String] = []

    public init(clientId: String, credential: Credential, lifetime: Int = 2) {
        self.clientId = clientId
        self.credential = credential
        self.lifetime = lifetime
    }

    /// The handler for `LoopbackHTTPServer`; call `serve(at:)` with the server's base URL first.
    public var handler: @Sendable (RecordedRequest) -> ServerAction { { [self] request in handle(request) } }

    /// Tells the endpoint its own URL (the `aud` it expects): `baseURL` + `tokenPath`.
    public func serve(at baseURL: String) { locked { tokenURL = baseURL + Self.tokenPath } }

    /// The token URL for the client record.
    public var url: String { locked { tokenURL } }

    /// The next token requests get these answers instead of a token, in order.
    public func script(_ actions: [ServerAction]) { locked { scripted += actions } }
    /// Token answers wait this long (so that many jobs arrive while one request runs).
    public func delayAnswers(milliseconds: Int) { locked { answerDelayMs = milliseconds } }
    /// Another way for the client to authenticate (a key rotated at the partner).
    public func accept(_ credential: Credential) { locked { self.credential = credential } }
    /// Target paths starting with `prefix` answer 204 without a token (a header-only API).
    public func leaveOpen(pathPrefix prefix: String) { locked { openPrefixes.append(prefix) } }
    /// Every token issued so far stops working at once (revoked at the authorization server).
    public func revokeAll() { locked { tokens.removeAll() } }

    public var tokenRequestCount: Int { locked { tokenRequests } }
    public var unauthorizedCount: Int { locked { unauthorized } }
    /// Why requests were refused, one line each (a bad signature, a reused jti, …).
    public var problems: [String] { locked { rejected } }
    /// Every token handed out, for tests that look for it where it must not be.
    public var issued: [String] { locked { issuedTokens } }
    /// When each token was issued, in order.
    public var issuedAt: [Date] { locked { issueTimes } }
    /// When each token request arrived (its request read), in order.
    public var requestedAt: [Date] { locked { arrivals } }
    /// Every client assertion received.
    public var receivedAssertions: [String] { locked { assertions } }

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    private func handle(_ request: RecordedRequest) -> ServerAction {
        guard request.path == Self.tokenPath else { return target(request) }
        let (delay, forced) = locked { () -> (Int, ServerAction?) in
            tokenRequests += 1
            arrivals.append(request.receivedAt)
            return (answerDelayMs, scripted.isEmpty ? nil : scripted.removeFirst())
        }
        if delay > 0 { usleep(useconds_t(delay * 1000)) }
        if let forced { return forced }
        if let problem = check(request) {
            locked { rejected.append(problem) }
            let code = problem.hasPrefix("jti") ? "invalid_grant" : "invalid_client"
            return Self.json(status: code == "invalid_grant" ? 400 : 401, ["error": code, "error_description": problem])
        }
        let token = "tok-" + UUID().uuidString
        let life = locked { () -> Int in
            tokens[token] = Date().addingTimeInterval(TimeInterval(lifetime))
            issuedTokens.append(token)
            issueTimes.append(Date())
            return lifetime
        }
        return Self.json(status: 200, ["access_token": token, "token_type": "Bearer", "expires_in": life])
    }

    private func target(_ request: RecordedRequest) -> ServerAction {
        let header = request.header("Authorization") ?? ""
        let token = header.hasPrefix("Bearer ") ? String(header.dropFirst(7)) : ""
        return locked {
            if openPrefixes.contains(where: { request.path.hasPrefix($0) }) { return .respond(status: 204) }
            if let expiry = tokens[token], expiry > Date() { return .respond(status: 204) }
            unauthorized += 1
            return .respond(status: 401, headers: [HTTPHeaderField(name: "WWW-Authenticate", value: "Bearer error=\"invalid_token\"")])
        }
    }

    static func json(status: Int, _ object: [String: Any]) -> ServerAction {
        let body = String(decoding: (try? JSONSerialization.data(withJSONObject: object)) ?? Data(), as: UTF8.self)
        return .respond(status: status, headers: [HTTPHeaderField(name: "Content-Type", value: "application/json")], body: body)
    }

    /// Why the request is refused, or nil when it is a good client-credentials request.
    private func check(_ request: RecordedRequest) -> String? {
        let form = Self.formFields(request.bodyText)
        guard form["grant_type"] == "client_credentials" else { return "grant_type is not client_credentials" }
        let (credential, audience) = locked { (self.credential, tokenURL) }
        switch credential {
        case .secret(let secret):
            let expected = "Basic " + Data("\(Self.formEncode(clientId)):\(Self.formEncode(secret))".utf8).base64EncodedString()
            return request.header("Authorization") == expected ? nil : "client secret does not match"
        case .assertion(let publicKeyFile, let alg, let keyId):
            guard form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                  let assertion = form["client_assertion"] else { return "no client assertion" }
            locked { assertions.append(assertion) }
            return checkAssertion(assertion, publicKeyFile: publicKeyFile, alg: alg, keyId: keyId, audience: audience)
        }
    }

    private func checkAssertion(_ assertion: String, publicKeyFile: String, alg: String, keyId: String, audience: String) -> String? {
        let parts = assertion.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, let headerData = JOSE.base64URLDecode(parts[0]), let claimsData = JOSE.base64URLDecode(parts[1]),
              let signature = JOSE.base64URLDecode(parts[2]),
              let header = (try? JSONSerialization.jsonObject(with: headerData)) as? [String: Any],
              let claims = (try? JSONSerialization.jsonObject(with: claimsData)) as? [String: Any] else { return "malformed JWT" }
        guard header["alg"] as? String == alg, header["typ"] as? String == "JWT", header["kid"] as? String == keyId else {
            return "header \(header) does not match alg \(alg), typ JWT, kid \(keyId)"
        }
        guard JOSE.verify(signingInput: Data((parts[0] + "." + parts[1]).utf8), signature: signature, alg: alg,
                          publicKeyFile: publicKeyFile) else { return "signature does not verify" }
        guard claims["iss"] as? String == clientId, claims["sub"] as? String == clientId else { return "iss/sub is not the client ID" }
        guard claims["aud"] as? String == audience else { return "aud \(claims["aud"] ?? "none") is not \(audience)" }
        guard let exp = claims["exp"] as? Int, let iat = claims["iat"] as? Int, exp - iat <= 300, exp > Int(Date().timeIntervalSince1970) else {
            return "exp missing, past, or more than 300 s after iat"
        }
        guard let jti = claims["jti"] as? String, !jti.isEmpty else { return "jti missing" }
        let fresh = locked { seenJti.insert(jti).inserted }
        return fresh ? nil : "jti \(jti) was used before"
    }

    static func formFields(_ body: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ") }
            guard let name = parts.first?.removingPercentEncoding else { continue }
            fields[name] = parts.count > 1 ? parts[1].removingPercentEncoding : ""
        }
        return fields
    }

    static func formEncode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "*-._")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
