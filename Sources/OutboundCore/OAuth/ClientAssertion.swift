/// A client assertion (RFC 7523 §2.2, SMART Backend Services): a JWT the client signs with its
/// own key and sends to the token endpoint instead of a shared secret.
///
/// Header `alg`, `typ: JWT`, `kid`; claims `iss` = `sub` = the client ID, `aud` = the token
/// URL, a random `jti`, `iat` and `exp`. The lifetime is 240 s, under the 300 s SMART allows,
/// so a token endpoint whose clock runs a minute behind ours still accepts it.
public enum ClientAssertion {
    /// Seconds from `iat` to `exp`.
    public static let lifetime = 240

    /// Why no assertion could be made (reported as an `auth:` error of the token request).
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public let description: String
    }

    /// The compact JWS. `jti` is 16 bytes from getrandom(2) unless given (tests).
    public static func make(key: AssertionKey, clientId: String, audience: String, now: Double,
                            jti: [UInt8]? = nil) throws(Failure) -> String {
        guard let jtiBytes = jti ?? SystemRandom.bytes(16) else {
            throw Failure(description: "getrandom failed: no jti for the client assertion")
        }
        let header = JSONObjectWriter.object { writer in
            writer.add("alg", key.algorithm.rawValue)
            writer.add("typ", "JWT")
            writer.add("kid", key.keyId)
        }
        let issuedAt = Int(now)
        let claims = JSONObjectWriter.object { writer in
            writer.add("iss", clientId)
            writer.add("sub", clientId)
            writer.add("aud", audience)
            writer.add("jti", Base64.urlEncode(jtiBytes))
            writer.add("iat", issuedAt)
            writer.add("exp", issuedAt + lifetime)
        }
        let signingInput = Base64.urlEncode(header) + "." + Base64.urlEncode(claims)
        guard let signature = key.key.sign(Array(signingInput.utf8), hashBits: key.algorithm.hashBits,
                                           fieldBytes: key.algorithm.fieldBytes) else {
            throw Failure(description: "libcrypto could not sign the client assertion with \(key.keyFile)")
        }
        return signingInput + "." + Base64.urlEncode(signature)
    }
}

extension JSONObjectWriter {
    /// One JSON object's bytes.
    static func object(_ body: (inout JSONObjectWriter) -> Void) -> [UInt8] {
        var bytes: [UInt8] = []
        append(to: &bytes, body)
        return bytes
    }
}
