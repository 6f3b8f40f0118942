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
        guard target.scheme == url.scheme, target.host == url.host, target.port == url.port else { return false }
        guard Self.isCanonicalPath(target.path) else { return false }
        let prefix = url.path
        if target.path == prefix { return true }
        let boundary = prefix.hasSuffix("/") ? prefix : prefix + "/"
        return target.path.hasPrefix(boundary)
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
                guard let high = bytes.next(), let low = bytes.next() else { return false }
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
