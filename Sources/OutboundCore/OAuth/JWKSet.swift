/// The public half of every assertion key, as a JWK Set (RFC 7517 §5): what `outbound jwks`
/// prints for the partner to fetch from the JWK Set URL it registered for the client.
public enum JWKSet {
    /// `{"keys":[…]}` with one JWK per distinct key (records sharing a key file and `kid` give
    /// one entry), in the order given.
    public static func document(for keys: [AssertionKey]) -> [UInt8] {
        var seen: Set<String> = []
        var members: [[UInt8]] = []
        for key in keys where seen.insert("\(key.keyId) \(key.fingerprint)").inserted {
            if let jwk = jwk(for: key) { members.append(jwk) }
        }
        var bytes = Array(#"{"keys":["#.utf8)
        for (index, member) in members.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes += member
        }
        bytes += Array("]}".utf8)
        return bytes
    }

    /// One public JWK: `kty`, `kid`, `alg`, `use: sig` and RSA `n`/`e` or EC `crv`/`x`/`y`.
    /// nil when libcrypto cannot give the public numbers (it always can for a loaded key).
    public static func jwk(for key: AssertionKey) -> [UInt8]? {
        let algorithm = key.algorithm
        if algorithm.isRSA {
            guard let n = key.key.publicNumber("n"), let e = key.key.publicNumber("e") else { return nil }
            return JSONObjectWriter.object { writer in
                writer.add("kty", "RSA")
                writer.add("kid", key.keyId)
                writer.add("alg", algorithm.rawValue)
                writer.add("use", "sig")
                writer.add("n", Base64.urlEncode(n))
                writer.add("e", Base64.urlEncode(e))
            }
        }
        guard let x = key.key.publicNumber("x", pad: algorithm.fieldBytes),
              let y = key.key.publicNumber("y", pad: algorithm.fieldBytes) else { return nil }
        return JSONObjectWriter.object { writer in
            writer.add("kty", "EC")
            writer.add("kid", key.keyId)
            writer.add("alg", algorithm.rawValue)
            writer.add("use", "sig")
            writer.add("crv", algorithm.curve)
            writer.add("x", Base64.urlEncode(x))
            writer.add("y", Base64.urlEncode(y))
        }
    }
}
