import COutbound

/// SHA-256 from OpenSSL's libcrypto, as lowercase hex: the audit log's `bodySha256`.
public enum SHA256 {
    public static func hex(_ bytes: [UInt8]) -> String {
        var digits = [UInt8](repeating: 0, count: 65)
        bytes.withUnsafeBytes { raw in
            digits.withUnsafeMutableBufferPointer { out in
                out.withMemoryRebound(to: CChar.self) { outbound_sha256_hex(raw.baseAddress, raw.count, $0.baseAddress) }
            }
        }
        return String(decoding: digits.prefix(64), as: UTF8.self)
    }
}
