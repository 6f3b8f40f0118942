/// The common target URL, read without libcurl: `http(s)://host[:port]/path[?query]` spelled
/// so plainly that libcurl's parser cannot read it any other way. Anything else (upper case,
/// `%` in the path, dot segments, IP numbers other than dotted quads, userinfo, an empty port
/// or query, no path, IPv6, more than 8 KiB, ...) gets nil, and `TargetURLParser` asks libcurl.
///
/// Why: libcurl is a large library with some thirty dependencies, and loading it is most of
/// the start-up of a command that only checks a job (`outbound enqueue`, which upstream
/// scripts run once per job); libcurl is loaded when first used (COutbound's CurlLoader.c).
/// `PlainURLParserTests` checks, on generated URLs, that every URL read here is read the same
/// by libcurl.
enum PlainURLParser {
    /// The URL's parts, or nil when it is not plain.
    static func parse(_ text: String) -> TargetURL? {
        var contiguous = text
        return contiguous.withUTF8 { bytes in read(bytes, text: text) }
    }

    /// Longer URLs are left to libcurl, which has its own limit (8,000,000 bytes).
    static let maxLength = 8192

    private static func read(_ bytes: UnsafeBufferPointer<UInt8>, text: String) -> TargetURL? {
        guard bytes.count <= maxLength else { return nil }
        let scheme: String
        var index: Int
        if bytes.starts(with: "https://".utf8) {
            scheme = "https"
            index = 8
        } else if bytes.starts(with: "http://".utf8) {
            scheme = "http"
            index = 7
        } else {
            return nil
        }
        let hostStart = index
        while index < bytes.count, isHostByte(bytes[index]) { index += 1 }
        let host = String(decoding: bytes[hostStart..<index], as: UTF8.self)
        guard isPlainHost(host) else { return nil }
        var port = scheme == "https" ? 443 : 80
        if index < bytes.count, bytes[index] == UInt8(ascii: ":") {
            index += 1
            let portStart = index
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            let digits = bytes[portStart..<index]
            guard (1...5).contains(digits.count), digits.first != UInt8(ascii: "0"),
                  let number = Int(String(decoding: digits, as: UTF8.self)), number <= 65_535 else { return nil }
            port = number
        }
        // A path is required (libcurl would add "/"), and must be plain.
        guard index < bytes.count, bytes[index] == UInt8(ascii: "/") else { return nil }
        let pathStart = index
        while index < bytes.count, bytes[index] != UInt8(ascii: "?") {
            guard isPathByte(bytes[index]) else { return nil }
            index += 1
        }
        let path = String(decoding: bytes[pathStart..<index], as: UTF8.self)
        guard hasNoDotSegmentsOrEmptySegments(path) else { return nil }
        var query: String?
        if index < bytes.count {
            index += 1   // the "?"
            let queryStart = index
            while index < bytes.count {
                guard isQueryByte(bytes[index]) else { return nil }
                index += 1
            }
            guard index > queryStart else { return nil }
            query = String(decoding: bytes[queryStart..<index], as: UTF8.self)
        }
        return TargetURL(scheme: scheme, host: host, port: port, path: path, query: query, absoluteString: text)
    }

    /// Lower-case letters, digits, dots and hyphens: a host name or a dotted quad.
    private static func isHostByte(_ byte: UInt8) -> Bool {
        isLowerLetter(byte) || isDigit(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-")
    }

    /// A name whose last label starts with a letter (no IP number of any spelling: libcurl
    /// reads "127.1" or "0x7f.1" as 127.0.0.1), or a dotted quad of plain decimals; no empty
    /// label.
    private static func isPlainHost(_ host: String) -> Bool {
        let labels = host.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard !host.isEmpty, labels.allSatisfy({ !$0.isEmpty }), let last = labels.last else { return false }
        if isLowerLetter(last.first!) { return true }
        return labels.count == 4 && labels.allSatisfy { label in
            label.allSatisfy(isDigit) && label.count <= 3 && (label.count == 1 || label.first != UInt8(ascii: "0"))
                && Int(String(decoding: label, as: UTF8.self))! <= 255
        }
    }

    /// RFC 3986 unreserved characters and the sub-delimiters, ":" and "/": no "%", "@", "\\",
    /// white space, control or non-ASCII byte.
    private static func isPathByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "!"), UInt8(ascii: "$"),
             UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: "+"),
             UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "="), UInt8(ascii: ":"), UInt8(ascii: "/"):
            return true
        default:
            return false
        }
    }

    /// Path bytes, "?" and "%" (libcurl keeps a query as it is).
    private static func isQueryByte(_ byte: UInt8) -> Bool {
        isPathByte(byte) || byte == UInt8(ascii: "?") || byte == UInt8(ascii: "%")
    }

    /// No "." or ".." segment (libcurl resolves them) and no empty one ("//") but the last
    /// ("/", "/hooks/").
    private static func hasNoDotSegmentsOrEmptySegments(_ path: String) -> Bool {
        let segments = path.utf8.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        return segments.indices.allSatisfy { index in
            let segment = segments[index]
            if segment.isEmpty { return index == segments.count - 1 }
            return !segment.elementsEqual(".".utf8) && !segment.elementsEqual("..".utf8)
        }
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
    private static func isLowerLetter(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") }
}
