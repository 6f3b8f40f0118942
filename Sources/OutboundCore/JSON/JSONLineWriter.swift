/// Builds one JSON object on one line, member by member, straight into bytes.
///
/// Used for audit lines, `.reason` sidecars, job state and `status --json`: small flat
/// objects where building a dictionary and running an encoder would cost more than the work.
public struct JSONObjectWriter {
    private var bytes: [UInt8] = [UInt8(ascii: "{")]
    private var isEmpty = true

    public init() {}

    public mutating func add(_ key: String, _ value: String?) {
        guard let value else { return }
        startMember(key)
        Self.appendQuoted(value, to: &bytes)
    }

    public mutating func add(_ key: String, _ value: Int?) {
        guard let value else { return }
        startMember(key)
        bytes.append(contentsOf: String(value).utf8)
    }

    public mutating func add(_ key: String, _ value: Bool?) {
        guard let value else { return }
        startMember(key)
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    /// Adds an RFC 3339 timestamp (milliseconds, UTC) as a string member.
    public mutating func addTimestamp(_ key: String, _ seconds: Double?) {
        guard let seconds else { return }
        startMember(key)
        bytes.append(UInt8(ascii: "\""))
        Timestamp.append(seconds, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    /// Adds a member whose value is already serialized JSON (a nested object or array).
    public mutating func addRaw(_ key: String, json: [UInt8]) {
        startMember(key)
        bytes.append(contentsOf: json)
    }

    /// The finished object, without a trailing newline.
    public func finish() -> [UInt8] {
        bytes + [UInt8(ascii: "}")]
    }

    private mutating func startMember(_ key: String) {
        if !isEmpty { bytes.append(UInt8(ascii: ",")) }
        isEmpty = false
        Self.appendQuoted(key, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
    }

    /// Appends `text` as a JSON string literal; control characters are escaped so a line
    /// can never be split, whatever a file name or message holds.
    public static func appendQuoted(_ text: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: bytes.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0..<0x20, 0x7F:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// A JSON array of strings, serialized.
    public static func array(of strings: [String]) -> [UInt8] {
        var bytes: [UInt8] = [UInt8(ascii: "[")]
        for (offset, text) in strings.enumerated() {
            if offset > 0 { bytes.append(UInt8(ascii: ",")) }
            appendQuoted(text, to: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
        return bytes
    }
}
