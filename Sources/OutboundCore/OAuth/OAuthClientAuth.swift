/// A JWS signing algorithm a client assertion may use (RFC 7518 §3): the ones SMART Backend
/// Services names (RS384, ES384) and their SHA-256 siblings.
public enum JWSAlgorithm: String, Sendable, CaseIterable {
    case rs256 = "RS256"
    case rs384 = "RS384"
    case es256 = "ES256"
    case es384 = "ES384"

    var hashBits: Int { self == .rs256 || self == .es256 ? 256 : 384 }
    var isRSA: Bool { self == .rs256 || self == .rs384 }
    /// The width of r and of s in an ECDSA signature, and of x and y in the JWK (0 for RSA).
    var fieldBytes: Int {
        switch self {
        case .rs256, .rs384: return 0
        case .es256: return 32
        case .es384: return 48
        }
    }
    /// The JWK `crv` of the EC curve this algorithm signs with.
    var curve: String? {
        switch self {
        case .rs256, .rs384: return nil
        case .es256: return "P-256"
        case .es384: return "P-384"
        }
    }

    /// Why `kind` cannot sign with this algorithm, or nil when it can. RSA keys must have at
    /// least 2048 bits (SMART Backend Services and RFC 7518 §3.3).
    func mismatch(with kind: SigningKey.Kind) -> String? {
        switch (self, kind) {
        case (.rs256, .rsa(let bits)), (.rs384, .rsa(let bits)):
            return bits >= 2048 ? nil : "is an RSA key of \(bits) bits; \(rawValue) needs at least 2048"
        case (.es256, .ecP256), (.es384, .ecP384):
            return nil
        case (_, .rsa):
            return "is an RSA key; \(rawValue) needs an EC key on \(curve ?? "")"
        case (_, .ecP256), (_, .ecP384):
            return isRSA ? "is an EC key; \(rawValue) needs an RSA key"
                : "is an EC key on \(kind == .ecP256 ? "P-256" : "P-384"); \(rawValue) needs one on \(curve ?? "")"
        case (_, .unsupported(let what)):
            return "is \(what); \(rawValue) needs \(isRSA ? "an RSA key" : "an EC key on \(curve ?? "")")"
        }
    }
}

/// The private key a client signs its assertions with, as loaded from `assertion.keyFile`.
/// Two loads of the same file compare equal (by algorithm, key ID, path and a SHA-256 of the
/// file), so a reload that changes nothing keeps the client's cached token.
public struct AssertionKey: Sendable, Equatable {
    public let key: SigningKey
    public let algorithm: JWSAlgorithm
    public let keyId: String
    /// Absolute path, for messages and `jwks`.
    public let keyFile: String
    /// SHA-256 of the key file's bytes: identity only, it reveals nothing of the key.
    let fingerprint: String

    public init(key: SigningKey, algorithm: JWSAlgorithm, keyId: String, keyFile: String, fingerprint: String) {
        self.key = key
        self.algorithm = algorithm
        self.keyId = keyId
        self.keyFile = keyFile
        self.fingerprint = fingerprint
    }

    public static func == (a: AssertionKey, b: AssertionKey) -> Bool {
        a.algorithm == b.algorithm && a.keyId == b.keyId && a.keyFile == b.keyFile && a.fingerprint == b.fingerprint
    }
}

/// A client secret read from `clientSecretFile`. Its descriptions never show the value, so an
/// interpolated record or a debugger print cannot leak it.
public struct ClientSecret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    let value: String
    /// Absolute path, for messages.
    public let file: String

    public init(value: String, file: String) {
        self.value = value
        self.file = file
    }

    public var description: String { "client secret from \(file)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["file": file]) }
}

/// How a client record's calls get their bearer token (contract section 12): OAuth 2.0 client
/// credentials at `tokenURL`, authenticated by a signed assertion or a client secret.
///
/// A class of immutable values rather than a struct: a `ClientRecord` travels with every job
/// (gate passes, actions), and copying this by value would retain each of its strings on
/// every copy; one reference is one retain. Equality is by value (a reload that reads the same
/// files gives an equal one). `Sendable`: every stored property is a `let` of a Sendable type.
public final class OAuthClientAuth: Sendable, Equatable {
    /// How the client proves itself to the token endpoint.
    public enum Credential: Sendable, Equatable {
        /// Private key JWT (RFC 7523; SMART Backend Services).
        case assertion(AssertionKey)
        /// HTTP Basic with the client ID and secret (RFC 6749 §2.3.1).
        case clientSecret(ClientSecret)
    }

    public let tokenURL: TargetURL
    public let scope: String?
    public let credential: Credential

    public init(tokenURL: TargetURL, scope: String?, credential: Credential) {
        self.tokenURL = tokenURL
        self.scope = scope
        self.credential = credential
    }

    /// The assertion key, when the client signs assertions.
    public var assertionKey: AssertionKey? {
        if case .assertion(let key) = credential { return key }
        return nil
    }

    public static func == (a: OAuthClientAuth, b: OAuthClientAuth) -> Bool {
        a === b || (a.tokenURL == b.tokenURL && a.scope == b.scope && a.credential == b.credential)
    }
}
