/// A URL prefix a client may be called at. Matching is by parts, never by string prefix:
/// same scheme, same host (exactly, so `acme.example.evil` is not `acme.example`), same port,
/// and a path under the endpoint's path at a `/` boundary (so `/hooks/` does not admit
/// `/hooksx`).
public struct Endpoint: Sendable, Equatable, CustomStringConvertible {
    public let url: TargetURL

    public init(url: TargetURL) {
        self.url = url
    }

    public var description: String { url.redacted }

    /// Whether `target` lies under this endpoint.
    public func admits(_ target: TargetURL) -> Bool {
        // Bytes, not Strings: Swift compares Strings by Unicode canonical equivalence, so
        // "\u{212A}" (KELVIN SIGN) would "equal" "K" while the server receives other bytes.
        guard target.port == url.port, target.scheme.hasSameBytes(as: url.scheme), target.host.hasSameBytes(as: url.host) else {
            return false
        }
        guard Self.isCanonicalPath(target.path) else { return false }
        guard target.path.hasBytePrefix(url.path) else { return false }
        let path = target.path.utf8
        let prefix = url.path.utf8
        if path.count == prefix.count { return true }
        // Under the prefix at a "/" boundary: the prefix ends with "/", or the path goes on with one.
        if prefix.last == UInt8(ascii: "/") { return true }
        return path.dropFirst(prefix.count).first == UInt8(ascii: "/")
    }

    /// Rejects paths a server might read differently from us: encoded dots that form `.` or
    /// `..` segments, dot segments hidden behind path parameters (`..;/`, which Tomcat and
    /// Spring read as `..`), and encoded slashes, backslashes or NULs that hide a boundary.
    /// Works on bytes: it runs for every job before every attempt.
    static func isCanonicalPath(_ path: String) -> Bool {
        var dots = 0              // dots in the current segment's name
        var nameIsOnlyDots = true // the name so far is only dots
        var inParameters = false  // past a ';' in this segment
        var bytes = path.utf8.makeIterator()
        func endSegment() -> Bool {
            let isDotSegment = nameIsOnlyDots && (dots == 1 || dots == 2)
            dots = 0
            nameIsOnlyDots = true
            inParameters = false
            return !isDotSegment
        }
        while let byte = bytes.next() {
            var decoded = byte
            if byte == UInt8(ascii: "%") {
                // A malformed escape could swallow the "/" or "%" after it: refuse it outright.
                guard let high = bytes.next(), let low = bytes.next(), high.isHexDigit, low.isHexDigit else { return false }
                switch (high | 0x20, low | 0x20) {
                case (UInt8(ascii: "2"), UInt8(ascii: "e")): decoded = UInt8(ascii: ".")
                case (UInt8(ascii: "3"), UInt8(ascii: "b")): decoded = UInt8(ascii: ";")
                case (UInt8(ascii: "2"), UInt8(ascii: "f")), (UInt8(ascii: "5"), UInt8(ascii: "c")), (UInt8(ascii: "0"), UInt8(ascii: "0")):
                    return false
                default: decoded = 0  // some other escaped character: part of the name
                }
            }
            if byte == UInt8(ascii: "/") {
                guard endSegment() else { return false }
                continue
            }
            if inParameters { continue }
            if decoded == UInt8(ascii: ";") {
                inParameters = true
            } else if decoded == UInt8(ascii: ".") {
                dots += 1
            } else {
                nameIsOnlyDots = false
            }
        }
        return endSegment()
    }
}

extension UInt8 {
    var isHexDigit: Bool {
        (0x30...0x39).contains(self) || (0x41...0x46).contains(self) || (0x61...0x66).contains(self)
    }
}
