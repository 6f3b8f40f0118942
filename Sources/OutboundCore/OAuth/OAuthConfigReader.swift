/// Reads a client record's `auth` object (contract section 12) and the files it names.
///
/// Key and secret files are read here, at load and at every reload, so a missing,
/// unreadable, world-readable or unusable file is a configuration error at once (naming the
/// file, the record and the field), never a surprise at the first token request.
struct OAuthConfigReader {
    /// The config folder: relative paths are taken from here.
    let directory: String
    /// `clients.json`, for messages.
    let file: String
    /// "clients[3] (clientId …)", for messages.
    let entry: String

    private func fail(_ message: String) -> ConfigError {
        ConfigError(file: file, entry: entry, message)
    }

    func read(_ members: [(key: String, value: JSONValue)]) throws(ConfigError) -> OAuthClientAuth {
        let reader = FieldReader(file: file, entry: "\(entry) auth", members: members)
        try reader.rejectUnknown(["type", "tokenUrl", "scope", "assertion", "clientSecretFile"])
        guard try reader.string("type") == "oauth2" else {
            throw fail("field 'auth.type' must be \"oauth2\"")
        }
        guard let tokenText = try reader.string("tokenUrl") else {
            throw fail("field 'auth.tokenUrl' is required: the partner's OAuth 2.0 token endpoint (https)")
        }
        let tokenURL = try tokenURL(tokenText)
        let scope = try reader.string("scope")
        if let scope, scope.isEmpty || !scope.utf8.allSatisfy({ (0x20...0x7E).contains($0) && $0 != 0x22 && $0 != 0x5C }) {
            throw fail("field 'auth.scope' must be space-separated scope tokens of printable ASCII (RFC 6749 §3.3)")
        }
        let assertion = try reader.object("assertion")
        let secretFile = try reader.string("clientSecretFile")
        let credential: OAuthClientAuth.Credential
        switch (assertion, secretFile) {
        case (let assertion?, nil):
            credential = .assertion(try assertionKey(assertion))
        case (nil, let secretFile?):
            credential = .clientSecret(try clientSecret(secretFile))
        default:
            throw fail("field 'auth' needs exactly one of 'assertion' (a signing key) and 'clientSecretFile'")
        }
        return OAuthClientAuth(tokenURL: tokenURL, scope: scope, credential: credential)
    }

    /// `https`, or plain `http` only to a loopback address literal (for tests); no query.
    private func tokenURL(_ text: String) throws(ConfigError) -> TargetURL {
        let url: TargetURL
        do {
            url = try TargetURLParser.parse(text)
        } catch {
            throw fail("field 'auth.tokenUrl' \(error)")
        }
        if url.scheme == "http" && !Self.isLoopbackLiteral(url.host) {
            throw fail("field 'auth.tokenUrl' must be https (plain http is allowed only to a loopback address such as 127.0.0.1)")
        }
        return url
    }

    static func isLoopbackLiteral(_ host: String) -> Bool {
        if host == "[::1]" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "127" else { return false }
        return parts.allSatisfy { part in part.count <= 3 && !part.isEmpty && part.allSatisfy(\.isASCII) && UInt8(part) != nil }
    }

    private func assertionKey(_ members: [(key: String, value: JSONValue)]) throws(ConfigError) -> AssertionKey {
        let reader = FieldReader(file: file, entry: "\(entry) auth.assertion", members: members)
        try reader.rejectUnknown(["keyFile", "alg", "keyId"])
        guard let keyPath = try reader.string("keyFile"), !keyPath.isEmpty else {
            throw fail("field 'auth.assertion.keyFile' is required: a PEM private key (see README, OAuth 2.0)")
        }
        let names = JWSAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")
        guard let algText = try reader.string("alg"), let algorithm = JWSAlgorithm(rawValue: algText) else {
            throw fail("field 'auth.assertion.alg' is required and must be one of \(names)")
        }
        guard let keyId = try reader.string("keyId"), !keyId.isEmpty,
              keyId.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw fail("field 'auth.assertion.keyId' is required: the key's kid, printable ASCII without spaces")
        }
        let (path, bytes) = try privateFile(keyPath, field: "auth.assertion.keyFile")
        guard let key = SigningKey(pem: bytes) else {
            throw fail("field 'auth.assertion.keyFile': '\(path)' holds no unencrypted PEM private key "
                + "(create one with: openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072)")
        }
        if let mismatch = algorithm.mismatch(with: key.kind) {
            throw fail("field 'auth.assertion.keyFile': '\(path)' \(mismatch) (field 'alg')")
        }
        return AssertionKey(key: key, algorithm: algorithm, keyId: keyId, keyFile: path, fingerprint: SHA256.hex(bytes))
    }

    private func clientSecret(_ secretPath: String) throws(ConfigError) -> ClientSecret {
        guard !secretPath.isEmpty else { throw fail("field 'auth.clientSecretFile' must not be empty") }
        let (path, bytes) = try privateFile(secretPath, field: "auth.clientSecretFile")
        var secret = bytes[...]
        while let last = secret.last, last == 0x0A || last == 0x0D { secret.removeLast() }
        guard !secret.isEmpty, secret.allSatisfy({ (0x20...0x7E).contains($0) }) else {
            throw fail("field 'auth.clientSecretFile': '\(path)' must hold the secret on one line of printable ASCII")
        }
        return ClientSecret(value: String(decoding: secret, as: UTF8.self), file: path)
    }

    /// Resolves `path` against the config folder and reads it: it must be a readable regular
    /// file that others cannot read (mode & 0o004 == 0).
    private func privateFile(_ path: String, field: String) throws(ConfigError) -> (String, [UInt8]) {
        let absolute = path.hasPrefix("/") ? path : "\(directory)/\(path)"
        let kind = FileSystem.kind(of: absolute)
        guard kind == .regular || kind == .symbolicLink else {
            throw fail("field '\(field)': '\(absolute)' " + (kind == .missing ? "does not exist" : "is not a regular file"))
        }
        guard let mode = FileSystem.permissions(of: absolute) else {
            throw fail("field '\(field)': '\(absolute)' cannot be examined (a dangling link?)")
        }
        guard mode & 0o004 == 0 else {
            throw fail("field '\(field)': '\(absolute)' is readable by everyone (mode \(String(mode, radix: 8))); "
                + "run: chmod o-r '\(absolute)'")
        }
        let bytes: [UInt8]?
        do {
            bytes = try FileSystem.readSmallFile(absolute, limit: 1 << 20)
        } catch {
            throw fail("field '\(field)': \(error)")
        }
        guard let bytes else { throw fail("field '\(field)': '\(absolute)' does not exist") }
        return (absolute, bytes)
    }
}
