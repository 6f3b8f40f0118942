/// Finds the members of a JSON object without building its values: each top-level key and
/// the byte range of its value in the text.
///
/// For what needs only a few members of a job file, cheaply and exactly: `list` reads the
/// `id` and `clientId` of 100,000 jobs without turning their bodies into strings, and `replay
/// --rewrite` replaces the bytes of the `url` member's value and keeps every other byte. It
/// checks structure (quotes, brackets, commas) but not the finer rules `JSONParser` enforces;
/// whatever it finds a job's real decoding confirms or rejects.
public struct JSONMemberScanner {
    /// One member: its key (unescaped) and where its value's text lies.
    public struct Member: Sendable {
        public let key: String
        public let valueRange: Range<Int>
    }

    /// The top-level members of `bytes`, or nil when the text is not one JSON object.
    public static func members(of bytes: [UInt8]) -> [Member]? {
        bytes.withUnsafeBufferPointer { buffer in
            var scanner = Cursor(bytes: buffer)
            return scanner.scanObject()
        }
    }

    /// The string value of `key` among `members` of `bytes`, unescaped; nil when missing or not
    /// a string.
    public static func string(_ key: String, in members: [Member], of bytes: [UInt8]) -> String? {
        guard let member = members.first(where: { $0.key == key }) else { return nil }
        return decodeString(bytes[member.valueRange])
    }

    /// A JSON string literal's text (with its quotes) as a String; nil when it is not one.
    public static func decodeString(_ literal: ArraySlice<UInt8>) -> String? {
        guard literal.count >= 2, literal.first == UInt8(ascii: "\""), literal.last == UInt8(ascii: "\"") else { return nil }
        let inner = literal.dropFirst().dropLast()
        if !inner.contains(UInt8(ascii: "\\")) { return String(validating: inner, as: UTF8.self) }
        guard case .string(let text)? = try? JSONParser.parse(Array(literal)) else { return nil }
        return text
    }

    private struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        mutating func skipWhitespace() {
            while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 {
                index += 1
            }
        }

        mutating func scanObject() -> [Member]? {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else { return nil }
            index += 1
            var members: [Member] = []
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return finish(members)
            }
            while true {
                skipWhitespace()
                let keyStart = index
                guard skipString(), let key = JSONMemberScanner.decodeString(Array(bytes[keyStart..<index])[...]) else { return nil }
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
                index += 1
                skipWhitespace()
                let valueStart = index
                guard skipValue(depth: 0) else { return nil }
                members.append(Member(key: key, valueRange: valueStart..<index))
                skipWhitespace()
                guard index < bytes.count else { return nil }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                guard bytes[index] == UInt8(ascii: "}") else { return nil }
                index += 1
                return finish(members)
            }
        }

        mutating func finish(_ members: [Member]) -> [Member]? {
            skipWhitespace()
            return index == bytes.count ? members : nil
        }

        /// Moves past a string literal starting at `index`.
        mutating func skipString() -> Bool {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return false }
            index += 1
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "\""):
                    index += 1
                    return true
                case UInt8(ascii: "\\"):
                    index += 2
                default:
                    index += 1
                }
            }
            return false
        }

        mutating func skipValue(depth: Int) -> Bool {
            guard index < bytes.count, depth < JSONParser.defaultMaxDepth else { return false }
            switch bytes[index] {
            case UInt8(ascii: "\""):
                return skipString()
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let close = bytes[index] == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
                let isObject = close == UInt8(ascii: "}")
                index += 1
                skipWhitespace()
                if index < bytes.count, bytes[index] == close { index += 1; return true }
                while true {
                    skipWhitespace()
                    if isObject {
                        guard skipString() else { return false }
                        skipWhitespace()
                        guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return false }
                        index += 1
                        skipWhitespace()
                    }
                    guard skipValue(depth: depth + 1) else { return false }
                    skipWhitespace()
                    guard index < bytes.count else { return false }
                    if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                    guard bytes[index] == close else { return false }
                    index += 1
                    return true
                }
            default:
                // A number or a literal: up to the next delimiter.
                let start = index
                while index < bytes.count {
                    let byte = bytes[index]
                    if byte == UInt8(ascii: ",") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]")
                        || byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { break }
                    index += 1
                }
                return index > start
            }
        }
    }
}
