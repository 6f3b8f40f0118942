import COutbound

/// SHA-256 from OpenSSL's libcrypto, as lowercase hex: the audit log's `bodySha256` and the
/// hash chain's `prev`.
public enum SHA256 {
    public static func hex(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBytes { raw in withHex(of: raw) { String(decoding: $0, as: UTF8.self) } }
    }

    /// Hands `body` the 64 hex digits of SHA-256(`bytes`), in a scratch buffer that lives only
    /// for the call: the chain hashes every line, and this costs no allocation per line.
    public static func withHex<R>(of bytes: UnsafeRawBufferPointer, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 65) { digits in
            digits.withMemoryRebound(to: CChar.self) { out in
                outbound_sha256_hex(bytes.baseAddress, bytes.count, out.baseAddress)
            }
            return try body(UnsafeBufferPointer(rebasing: digits[..<64]))
        }
    }

    /// Appends the 64 hex digits of SHA-256(`bytes`) to `buffer`.
    public static func appendHex(of bytes: UnsafeRawBufferPointer, to buffer: inout [UInt8]) {
        withHex(of: bytes) { buffer.append(contentsOf: $0) }
    }
}
