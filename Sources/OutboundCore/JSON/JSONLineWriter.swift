/// Builds one JSON object on one line, member by member, straight into bytes.
///
/// Used for audit lines, `.reason` sidecars, job state and `status --json`: small flat
/// objects where building a dictionary and running an encoder would cost more than the work.
public struct JSONObjectWriter {
    private var bytes: [UInt8]
    private var isEmpty = true

    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
        bytes.append(UInt8(ascii: "{"))
    }

    private init(empty: Void) {
        bytes = []
    }

    /// Writes one object onto the end of `buffer` in place (after earlier lines of the same
    /// buffer): the storage is moved into the writer and back, never copied.
    public static func append(to buffer: inout [UInt8], _ body: (inout JSONObjectWriter) -> Void) {
        var writer = JSONObjectWriter(empty: ())
        swap(&writer.bytes, &buffer)
        writer.bytes.append(UInt8(ascii: "{"))
        body(&writer)
        writer.bytes.append(UInt8(ascii: "}"))
        swap(&writer.bytes, &buffer)
    }

    public mutating func add(_ key: StaticString, _ value: String?) {
        guard let value else { return }
        startMember(key)
        Self.appendQuoted(value, to: &bytes)
    }

    public mutating func add(_ key: StaticString, _ value: Int?) {
        guard let value else { return }
        startMember(key)
        Self.appendDecimal(value, to: &bytes)
    }

    public mutating func add(_ key: StaticString, _ value: Bool?) {
        guard let value else { return }
        startMember(key)
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    /// Adds an RFC 3339 timestamp (milliseconds, UTC) as a string member.
    public mutating func addTimestamp(_ key: StaticString, _ seconds: Double?) {
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
    public consuming func finish() -> [UInt8] {
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }

    /// Appends an integer in decimal without building a String.
    static func appendDecimal(_ value: Int, to bytes: inout [UInt8]) {
        if value < 0 {
            bytes.append(UInt8(ascii: "-"))
            // Int.min has no positive counterpart: its magnitude is spelled out as UInt.
            appendDecimal(UInt(value.magnitude), to: &bytes)
        } else {
            appendDecimal(UInt(value), to: &bytes)
        }
    }

    private static func appendDecimal(_ value: UInt, to bytes: inout [UInt8]) {
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var rest = value
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[19 - count] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
                count += 1
            } while rest > 0
            bytes.append(contentsOf: buffer[(20 - count)...])
        }
    }

    private mutating func startMember(_ key: String) {
        if !isEmpty { bytes.append(UInt8(ascii: ",")) }
        isEmpty = false
        Self.appendQuoted(key, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
    }

    /// A member name written in the source: plain ASCII, copied without an escape scan.
    private mutating func startMember(_ key: StaticString) {
        let name = UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
        assert(name.allSatisfy { $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") })
        if !isEmpty { bytes.append(UInt8(ascii: ",")) }
        isEmpty = false
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: name)
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    /// Appends `text` as a JSON string literal; control characters are escaped so a line
    /// can never be split, whatever a file name or message holds. Runs that need no escape
    /// are copied whole.
    public static func appendQuoted(_ text: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            var runStart = 0
            for offset in 0..<utf8.count {
                let byte = utf8[offset]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == 0x7F else { continue }
                if runStart < offset { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<offset])) }
                appendEscape(byte, to: &bytes)
                runStart = offset + 1
            }
            if runStart < utf8.count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...])) }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private static func appendEscape(_ byte: UInt8, to bytes: inout [UInt8]) {
        bytes.append(0x5C)
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(byte)
        case 0x0A: bytes.append(UInt8(ascii: "n"))
        case 0x0D: bytes.append(UInt8(ascii: "r"))
        case 0x09: bytes.append(UInt8(ascii: "t"))
        default:
            let hex = Array("0123456789abcdef".utf8)
            bytes.append(contentsOf: [UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
        }
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
