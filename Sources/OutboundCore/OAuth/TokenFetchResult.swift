/// An access token as the token endpoint issued it. Its descriptions never show the value.
///
/// A class of immutable values: every job of the client carries it (`ClaimedJob.bearer`), and
/// a reference is one retain per copy where a struct would retain each string. Equality is by
/// value. `Sendable`: every stored property is a `let` of a Sendable type.
public final class AccessToken: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    let value: String
    /// Seconds the token lives, as the endpoint said (or `TokenFetchResult.assumedLifetime`).
    public let expiresIn: Int

    /// The header line a call carries, made once: every job of the client sends it.
    public let authorizationHeaderLine: String

    public init(value: String, expiresIn: Int) {
        self.value = value
        self.expiresIn = expiresIn
        authorizationHeaderLine = "Authorization: Bearer \(value)"
    }
    public var description: String { "access token (\(expiresIn) s)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["expiresIn": expiresIn]) }

    public static func == (a: AccessToken, b: AccessToken) -> Bool {
        a === b || (a.value == b.value && a.expiresIn == b.expiresIn)
    }
}

/// Why a token request gave no token. Every kind defers the jobs waiting for it (nothing is
/// sent to a target without a token, and a job is never failed for its client's token
/// endpoint: its age and `notAfter` still bound it).
public enum TokenFailure: Error, Sendable, Equatable {
    /// No complete response: connect, DNS, TLS, timeout, reset.
    case transport(TransportError)
    /// 5xx or 429; `retryAfter` is the raw header when there was one.
    case unavailable(status: Int, retryAfter: String?)
    /// 400 or 401 with an OAuth error code (RFC 6749 §5.2): `invalid_client`,
    /// `unauthorized_client`, `invalid_scope` and the rest. A config fix and SIGHUP recover it.
    case refused(status: Int, code: String)
    /// Any other status (a 3xx redirect, which is never followed, 403, 404, …), or a 400/401
    /// without a readable OAuth error.
    case unexpectedStatus(Int)
    /// A 2xx whose body is not a usable bearer-token response.
    case invalidResponse(status: Int, why: String)
    /// The request could not be made (no assertion signed, libcurl refused an option).
    case setup(String)
    /// The process stopped before the endpoint answered (the transfer was aborted).
    case abandoned

    /// The OAuth error code, when the endpoint gave one: the audit line's `oauthError`.
    public var oauthErrorCode: String? {
        if case .refused(_, let code) = self { return code }
        return nil
    }

    /// The HTTP status, when a response came.
    public var status: Int? {
        switch self {
        case .unavailable(let status, _), .refused(let status, _), .unexpectedStatus(let status),
             .invalidResponse(let status, _): return status
        case .transport, .setup, .abandoned: return nil
        }
    }

    /// The `error` of the `token` audit line and, after `auth: `, of the jobs it defers.
    /// Never a token, assertion or secret: only codes, statuses and libcurl's generic words.
    public var summary: String {
        switch self {
        case .transport(let error): return "token endpoint unreachable: \(error)"
        case .unavailable(let status, _): return "token endpoint answered \(status)"
        case .refused(let status, let code): return "\(code) (token endpoint answered \(status))"
        case .unexpectedStatus(let status):
            return (300...399).contains(status) ? "token endpoint answered \(status), a redirect, which is refused"
                : "token endpoint answered \(status)"
        case .invalidResponse(let status, let why): return "token endpoint answered \(status) with \(why)"
        case .setup(let why): return "no token request: \(why)"
        case .abandoned: return "no answer from the token endpoint before the process stopped"
        }
    }

    /// The job's `error`: "auth: invalid_client (token endpoint answered 401)".
    public var jobError: String { "auth: \(summary)" }

    /// The `result` label of `outbound_token_requests_total{client,result}`: a fixed word or
    /// an OAuth error code (a short token of the RFC's alphabet), never free text.
    public var metricResult: String {
        switch self {
        case .transport(let error): return "transport_\(error.kind.rawValue)"
        case .unavailable(let status, _), .unexpectedStatus(let status): return "http_\(status)"
        case .refused(_, let code): return code
        case .invalidResponse: return "invalid_response"
        case .setup: return "setup"
        case .abandoned: return "abandoned"
        }
    }
}

/// Reads a token endpoint's answer (RFC 6749 §5.1 and §5.2) into a token or a failure.
public enum TokenFetchResult {
    /// A token without `expires_in` is taken to live this long (SMART's usual lifetime); a
    /// target's 401 drops it sooner if it is wrong.
    public static let assumedLifetime = 300

    public static func classify(_ result: AttemptResult, body: [UInt8]?) -> Result<AccessToken, TokenFailure> {
        switch result {
        case .transportError(let error):
            return .failure(.transport(error))
        case .response(let status, let retryAfter):
            switch status {
            case 200...299: return parseToken(status: status, body: body ?? [])
            case 429, 500...599: return .failure(.unavailable(status: status, retryAfter: retryAfter))
            case 400, 401:
                if let code = errorCode(body ?? []) { return .failure(.refused(status: status, code: code)) }
                return .failure(.unexpectedStatus(status))
            default: return .failure(.unexpectedStatus(status))
            }
        }
    }

    private static func members(_ body: [UInt8]) -> [String: JSONValue]? {
        guard let document = try? JSONParser.parse(body), case .object(let list) = document else { return nil }
        var members: [String: JSONValue] = [:]
        for member in list { members[member.key] = member.value }
        return members
    }

    /// `error` of an error response when it is an RFC 6749 error code (printable ASCII,
    /// no quote or backslash, at most 64 bytes); nil otherwise.
    static func errorCode(_ body: [UInt8]) -> String? {
        guard case .string(let code)? = members(body)?["error"], !code.isEmpty, code.utf8.count <= 64,
              code.utf8.allSatisfy({ (0x21...0x7E).contains($0) && $0 != 0x22 && $0 != 0x5C }) else { return nil }
        return code
    }

    static func parseToken(status: Int, body: [UInt8]) -> Result<AccessToken, TokenFailure> {
        guard let members = members(body) else {
            return .failure(.invalidResponse(status: status, why: "a body that is not a JSON object"))
        }
        guard case .string(let token)? = members["access_token"], !token.isEmpty,
              token.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            return .failure(.invalidResponse(status: status, why: "no usable access_token"))
        }
        guard case .string(let type)? = members["token_type"], type.caseInsensitiveEquals("Bearer") else {
            return .failure(.invalidResponse(status: status, why: "a token_type other than Bearer"))
        }
        var expiresIn = assumedLifetime
        switch members["expires_in"] {
        case nil, .null?: break
        case let value?:
            var seconds = value.integerValue
            if seconds == nil, case .string(let text) = value { seconds = Int(text) }
            guard let seconds, seconds > 0 else {
                return .failure(.invalidResponse(status: status, why: "an expires_in that is not a positive number"))
            }
            expiresIn = seconds
        }
        return .success(AccessToken(value: token, expiresIn: expiresIn))
    }
}
