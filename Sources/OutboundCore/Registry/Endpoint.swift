import Foundation

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
    static func isCanonicalPath(_ path: String) -> Bool {
        let lowered = path.lowercased()
        if lowered.contains("%2f") || lowered.contains("%5c") || lowered.contains("%00") { return false }
        let decoded = lowered.replacingOccurrences(of: "%2e", with: ".").replacingOccurrences(of: "%3b", with: ";")
        for segment in decoded.split(separator: "/", omittingEmptySubsequences: false) {
            let name = segment.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? segment
            if name == "." || name == ".." { return false }
        }
        return true
    }
}
