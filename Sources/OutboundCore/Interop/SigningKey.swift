import COutbound

/// A private key loaded from PEM through libcrypto, for signing client assertions (JWS).
///
/// The `EVP_PKEY` pointer never leaves this file: callers see the key's kind, a `sign`
/// function and the public numbers a JWK needs. The key is freed when the last reference goes.
/// `@unchecked Sendable`: after loading, the key is only read; each `sign` builds its own
/// `EVP_MD_CTX`, and OpenSSL 3 documents concurrent use of one `EVP_PKEY` that way as safe.
/// https://www.openssl.org/docs/man3.0/man7/openssl-threads.html
public final class SigningKey: @unchecked Sendable {
    /// What a key is, which decides the JWS algorithms it can serve.
    public enum Kind: Sendable, Equatable {
        case rsa(bits: Int)
        case ecP256
        case ecP384
        /// An EC key on a curve JWS's ES256/ES384 do not use, or another key type (Ed25519, DSA).
        case unsupported(String)
    }

    private let key: OpaquePointer
    public let kind: Kind

    /// Parses an unencrypted PEM private key; nil when `pem` holds no private key (a public
    /// key, a certificate, an encrypted or damaged key).
    public init?(pem: [UInt8]) {
        guard let key = pem.withUnsafeBytes({ outbound_key_from_pem($0.baseAddress, $0.count) }) else { return nil }
        self.key = key
        switch outbound_key_kind_of(key) {
        case OUTBOUND_KEY_RSA: kind = .rsa(bits: Int(outbound_key_bits(key)))
        case OUTBOUND_KEY_EC_P256: kind = .ecP256
        case OUTBOUND_KEY_EC_P384: kind = .ecP384
        case OUTBOUND_KEY_EC_OTHER: kind = .unsupported("an EC key on a curve other than P-256 and P-384")
        default: kind = .unsupported("neither an RSA nor an EC key")
        }
    }

    deinit {
        outbound_key_free(key)
    }

    /// The JWS signature of `input` with SHA-`hashBits`: PKCS #1 v1.5 for RSA, r||s of
    /// `fieldBytes` each for EC. nil when libcrypto fails (it does not for a loaded key).
    public func sign(_ input: [UInt8], hashBits: Int, fieldBytes: Int) -> [UInt8]? {
        var signature = [UInt8](repeating: 0, count: 1024)
        var length = 0
        let ok = input.withUnsafeBytes { data in
            signature.withUnsafeMutableBufferPointer { out in
                outbound_key_sign(key, Int32(hashBits), fieldBytes, data.baseAddress, data.count,
                                  out.baseAddress, out.count, &length)
            }
        }
        guard ok == 1 else { return nil }
        return Array(signature.prefix(length))
    }

    /// A public number for the JWK: RSA `n`/`e` (minimal big-endian), EC `x`/`y` (padded to
    /// `pad` bytes). nil when the key has no such number.
    public func publicNumber(_ which: Character, pad: Int = 0) -> [UInt8]? {
        guard let letter = which.asciiValue else { return nil }
        var out = [UInt8](repeating: 0, count: 1024)
        let written = out.withUnsafeMutableBufferPointer {
            outbound_key_public_number(key, CChar(bitPattern: letter), pad, $0.baseAddress, $0.count)
        }
        guard written > 0 else { return nil }
        return Array(out.prefix(written))
    }
}
