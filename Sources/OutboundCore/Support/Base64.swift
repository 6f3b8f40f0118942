/// Standard base64 (RFC 4648 §4), decoded strictly: the alphabet `A–Z a–z 0–9 + /` only, the
/// length a multiple of four, `=` only as the last one or two characters. No white space, no
/// URL-safe alphabet, no missing padding: a job's body is never guessed at.
enum Base64 {
    /// The bytes `text` encodes, or nil if it is not strict base64.
    static func decode(_ text: String) -> [UInt8]? {
        var text = text
        return text.withUTF8 { encoded -> [UInt8]? in
            guard encoded.count % 4 == 0 else { return nil }
            var padding = 0
            if encoded.count > 0 && encoded[encoded.count - 1] == UInt8(ascii: "=") { padding += 1 }
            if encoded.count > 1 && encoded[encoded.count - 2] == UInt8(ascii: "=") { padding += 1 }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(encoded.count / 4 * 3)
            var group: UInt32 = 0
            for (offset, character) in encoded.enumerated() {
                let value: UInt32
                if offset >= encoded.count - padding {
                    value = 0
                } else if let digit = digit(character) {
                    value = digit
                } else {
                    return nil
                }
                group = group << 6 | value
                if offset % 4 == 3 {
                    bytes.append(UInt8(truncatingIfNeeded: group >> 16))
                    bytes.append(UInt8(truncatingIfNeeded: group >> 8))
                    bytes.append(UInt8(truncatingIfNeeded: group))
                    group = 0
                }
            }
            bytes.removeLast(padding)
            return bytes
        }
    }

    private static func digit(_ character: UInt8) -> UInt32? {
        switch character {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return UInt32(character - UInt8(ascii: "A"))
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return UInt32(character - UInt8(ascii: "a")) + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(character - UInt8(ascii: "0")) + 52
        case UInt8(ascii: "+"): return 62
        case UInt8(ascii: "/"): return 63
        default: return nil
        }
    }
}
