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
    /// `,"name":` is composed on the stack and appended at once.
    private mutating func startMember(_ key: StaticString) {
        let name = UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
        assert(name.allSatisfy { $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") })
        let comma = isEmpty ? 0 : 1
        isEmpty = false
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: name.count + 4) { member in
            member[0] = UInt8(ascii: ",")
            member[1] = UInt8(ascii: "\"")
            _ = UnsafeMutableBufferPointer(rebasing: member[2...]).initialize(fromContentsOf: name)
            member[name.count + 2] = UInt8(ascii: "\"")
            member[name.count + 3] = UInt8(ascii: ":")
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: member[(1 - comma)...]))
        }
    }

    /// Appends `text` as a JSON string literal; control characters are escaped so a line
    /// can never be split, whatever a file name or message holds. Runs that need no escape
    /// are copied whole.
    public static func appendQuoted(_ text: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        if text.utf8.withContiguousStorageIfAvailable({ appendEscaped($0, to: &bytes) }) == nil {
            var text = text
            text.withUTF8 { appendEscaped($0, to: &bytes) }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Copies `utf8` with the escapes JSON needs. Eight bytes at a time are let through when
    /// none of them needs one (`mayNeedEscape`); a word that might is looked at byte by byte.
    private static func appendEscaped(_ utf8: UnsafeBufferPointer<UInt8>, to bytes: inout [UInt8]) {
        guard let base = utf8.baseAddress else { return }
        let count = utf8.count
        var runStart = 0
        var offset = 0
        while offset < count {
            if offset + 8 <= count,
               !mayNeedEscape(UnsafeRawPointer(base + offset).loadUnaligned(as: UInt64.self)) {
                offset += 8
                continue
            }
            let byte = base[offset]
            if needsEscape(byte) {
                if runStart < offset { bytes.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: offset - runStart)) }
                appendEscape(byte, to: &bytes)
                runStart = offset + 1
            }
            offset += 1
        }
        if runStart < count { bytes.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: count - runStart)) }
    }

    /// A byte below 0x20, a quote, a backslash or DEL: what is written as an escape.
    static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == 0x7F
    }

    /// Whether any of the eight bytes in `word` `needsEscape`, tested all at once: never false
    /// when one does (bytes of 0x80 and up never count); the bit tricks are the
    /// "has a byte less than n" and "has a zero byte" tests of Sean Anderson's Bit
    /// Twiddling Hacks.
    static func mayNeedEscape(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highBits: UInt64 = 0x8080_8080_8080_8080
        func hasZeroByte(_ value: UInt64) -> Bool { (value &- ones) & ~value & highBits != 0 }
        let hasControl = (word &- ones &* 0x20) & ~word & highBits != 0
        return hasControl || hasZeroByte(word ^ (ones &* 0x22)) || hasZeroByte(word ^ (ones &* 0x5C))
            || hasZeroByte(word ^ (ones &* 0x7F))
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
