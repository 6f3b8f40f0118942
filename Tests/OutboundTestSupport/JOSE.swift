import Foundation

/// JOSE for the tests, done with the `openssl` command line tool so that nothing of Outbound's
/// own signing code checks itself: key pairs (`openssl genpkey`), JWS verification
/// (`openssl dgst -verify`), and a PEM public key built from a JWK (RFC 7517/7518), to check
/// that `outbound jwks` publishes the key that signed an assertion.
public enum JOSE {
    /// A key pair in `folder`: the private key `name.pem` (mode 0600, as Outbound requires),
    /// optionally preceded by a text line (`canary`: PEM readers skip text before the block),
    /// and its public key `name.pub.pem`.
    @discardableResult
    public static func generateKeyPair(_ name: String, rsa: Bool, in folder: URL, canary: String? = nil) throws -> (privateKey: URL, publicKey: URL) {
        let privateKey = folder.appendingPathComponent("\(name).pem")
        let publicKey = folder.appendingPathComponent("\(name).pub.pem")
        let options = rsa ? ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"] : ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"]
        try openssl(["genpkey"] + options + ["-out", privateKey.path])
        try openssl(["pkey", "-in", privateKey.path, "-pubout", "-out", publicKey.path])
        if let canary {
            let pem = try Data(contentsOf: privateKey)
            try (Data("\(canary)\n".utf8) + pem).write(to: privateKey)
        }
        chmod(privateKey.path, 0o600)
        return (privateKey, publicKey)
    }

    /// One openssl at a time: a token endpoint flooded with requests (a broken single flight)
    /// would otherwise start dozens of processes at once, and Foundation's `Process` dies
    /// (a `try!` inside it) when it runs out of descriptors.
    private static let processLock = NSLock()

    /// Runs `openssl` with `arguments`; throws with its stderr when it fails.
    @discardableResult
    public static func openssl(_ arguments: [String]) throws -> Data {
        processLock.lock()
        defer { processLock.unlock() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw NSError(domain: "openssl", code: Int(process.terminationStatus),
                          userInfo: [NSLocalizedDescriptionKey: "openssl \(arguments.joined(separator: " ")): \(errorText)"])
        }
        return data
    }

    public static func base64URLDecode(_ text: String) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }

    /// Whether `signature` (JWS form: PKCS#1 v1.5 for RS*, r||s for ES*) over `signingInput`
    /// verifies with the PEM public key at `publicKeyFile`.
    public static func verify(signingInput: Data, signature: Data, alg: String, publicKeyFile: String) -> Bool {
        let digest = alg.hasSuffix("384") ? "-sha384" : "-sha256"
        let der = alg.hasPrefix("ES") ? ecdsaDER(signature) : signature
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("jws-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let input = folder.appendingPathComponent("input")
            let sig = folder.appendingPathComponent("sig")
            try signingInput.write(to: input)
            try der.write(to: sig)
            try openssl(["dgst", digest, "-verify", publicKeyFile, "-signature", sig.path, input.path])
            return true
        } catch {
            return false
        }
    }

    /// r||s as the DER `SEQUENCE { INTEGER r, INTEGER s }` openssl verifies.
    static func ecdsaDER(_ signature: Data) -> Data {
        let half = signature.count / 2
        let r = derInteger(Array(signature.prefix(half)))
        let s = derInteger(Array(signature.suffix(half)))
        return Data(derTLV(0x30, r + s))
    }

    static func derInteger(_ bytes: [UInt8]) -> [UInt8] {
        var value = Array(bytes.drop(while: { $0 == 0 }))
        if value.isEmpty { value = [0] }
        if value[0] & 0x80 != 0 { value.insert(0, at: 0) }
        return derTLV(0x02, value)
    }

    static func derTLV(_ tag: UInt8, _ content: [UInt8]) -> [UInt8] {
        var length: [UInt8]
        if content.count < 128 {
            length = [UInt8(content.count)]
        } else {
            var count = content.count
            var bytes: [UInt8] = []
            while count > 0 {
                bytes.insert(UInt8(count & 0xFF), at: 0)
                count >>= 8
            }
            length = [0x80 | UInt8(bytes.count)] + bytes
        }
        return [tag] + length + content
    }

    /// The PEM public key of one JWK (RSA `n`/`e`, or EC P-256/P-384 `x`/`y`), written to `url`.
    public static func writePublicKey(of jwk: [String: Any], to url: URL) throws {
        let der: [UInt8]
        let oid = { (bytes: [UInt8]) in derTLV(0x06, bytes) }
        if jwk["kty"] as? String == "RSA" {
            guard let n = (jwk["n"] as? String).flatMap(base64URLDecode), let e = (jwk["e"] as? String).flatMap(base64URLDecode) else {
                throw NSError(domain: "jwk", code: 1)
            }
            let rsaKey = derTLV(0x30, derInteger(Array(n)) + derInteger(Array(e)))
            let algorithm = derTLV(0x30, oid([0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01]) + [0x05, 0x00])
            der = derTLV(0x30, algorithm + derTLV(0x03, [0] + rsaKey))
        } else {
            guard let x = (jwk["x"] as? String).flatMap(base64URLDecode), let y = (jwk["y"] as? String).flatMap(base64URLDecode) else {
                throw NSError(domain: "jwk", code: 2)
            }
            let curve: [UInt8] = jwk["crv"] as? String == "P-384" ? [0x2B, 0x81, 0x04, 0x00, 0x22]
                : [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07]
            let algorithm = derTLV(0x30, oid([0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01]) + oid(curve))
            der = derTLV(0x30, algorithm + derTLV(0x03, [0, 0x04] + Array(x) + Array(y)))
        }
        let base64 = Data(der).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        try Data("-----BEGIN PUBLIC KEY-----\n\(base64)\n-----END PUBLIC KEY-----\n".utf8).write(to: url)
    }
}
