/// A job's or an endpoint's URL, split by libcurl's own URL parser.
///
/// The gate decides on these parts and the transfer sends `absoluteString`, which is the same
/// parse serialized again, so the dispatcher never checks one reading of a URL and sends another
/// (the classic parser-differential hole).
public struct TargetURL: Sendable, Hashable, CustomStringConvertible {
    /// `http` or `https`, lowercase.
    public let scheme: String
    /// The host, lowercase; an IPv6 literal keeps its brackets (`[::1]`).
    public let host: String
    /// The port, with the scheme's default filled in.
    public let port: Int
    /// The path, dot segments resolved by libcurl, at least "/".
    public let path: String
    /// The query without its "?", if any. Never written to the audit log.
    public let query: String?
    /// The URL as it is sent.
    public let absoluteString: String

    public init(scheme: String, host: String, port: Int, path: String, query: String?, absoluteString: String) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.path = path
        self.query = query
        self.absoluteString = absoluteString
        let defaultPort = scheme == "https" ? 443 : 80
        let authority = port == defaultPort ? host : "\(host):\(port)"
        redacted = "\(scheme)://\(authority)\(path)"
        hostKey = "\(host):\(port)"
    }

    /// The form that may be logged: no userinfo, no query string, no fragment. Made once:
    /// every audit line of the job carries it.
    public let redacted: String

    /// `host:port`, the key for per-host concurrency.
    public let hostKey: String

    /// Whether it is an https URL.
    public var isTLS: Bool { scheme == "https" }

    public var description: String { redacted }
}

/// Why a URL string is not one Outbound will send to.
public enum URLProblem: Error, Sendable, Equatable, CustomStringConvertible {
    case notAbsoluteHTTP
    case unsupportedScheme(String)
    case hasUserinfo
    case hasFragment
    case forbiddenCharacter
    case nonASCIIHost
    case unparsable(String)

    public var description: String {
        switch self {
        case .notAbsoluteHTTP: return "must be an absolute http:// or https:// URL"
        case .unsupportedScheme(let scheme): return "uses the scheme '\(scheme)'; only http and https are allowed"
        case .hasUserinfo: return "must not carry userinfo (user:password@)"
        case .hasFragment: return "must not carry a fragment (#...)"
        case .forbiddenCharacter: return "contains white space, a backslash or a control character"
        case .nonASCIIHost: return "has a host name that is not ASCII; write an internationalized name in its xn-- form"
        case .unparsable(let why): return "cannot be parsed (\(why))"
        }
    }
}
