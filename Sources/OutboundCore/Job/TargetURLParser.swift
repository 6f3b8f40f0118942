/// The URL policy for jobs and endpoints: an absolute `http` or `https` URL with a host, no
/// userinfo, no fragment, no white space or control characters, and an ASCII (xn--) host,
/// parsed by libcurl's own URL parser (`CurlURL`) so that what the gate compares is what the
/// transfer connects to.
public enum TargetURLParser {
    /// Parses an absolute http(s) URL, rejecting userinfo, fragments and odd characters. A
    /// plain URL (`PlainURLParser`) is read without libcurl, anything else by libcurl.
    public static func parse(_ text: String) throws(URLProblem) -> TargetURL {
        if let plain = PlainURLParser.parse(text) { return plain }
        return try parseWithLibcurl(text)
    }

    /// The policy with libcurl's own parser, for every URL.
    static func parseWithLibcurl(_ text: String) throws(URLProblem) -> TargetURL {
        let bytes = ByteScan(text)
        if bytes.hasForbidden { throw .forbiddenCharacter }
        // Bytes, not Characters: "http://\u{301}…" is not prefixed by "http://" as a String.
        // Only the scheme and the byte after "://" are looked at here.
        let lowered = String(decoding: text.utf8.prefix(9), as: UTF8.self).asciiLowercased()
        guard lowered.utf8.starts(with: "http://".utf8) || lowered.utf8.starts(with: "https://".utf8) else {
            if let colon = text.firstIndex(of: ":"), text[..<colon].allSatisfy({ $0.isLetter || $0.isNumber || "+-.".contains($0) }), colon != text.startIndex {
                let scheme = String(text[..<colon]).lowercased()
                if scheme != "http" && scheme != "https" { throw .unsupportedScheme(scheme) }
            }
            throw .notAbsoluteHTTP
        }
        // "http:///host/" has an empty authority; libcurl would skip the extra slash and take
        // "host" for the host. Refused rather than repaired.
        let authorityStart = lowered.utf8.starts(with: "https://".utf8) ? 8 : 7
        if lowered.utf8.dropFirst(authorityStart).first == UInt8(ascii: "/") { throw .unparsable("empty host") }
        let parsed = try CurlURL.parse(text)
        // Userinfo (and login options) need an "@": without one there is nothing to ask
        // libcurl about. A "#" can only start a fragment (RFC 3986 §3.5), an empty one too,
        // which libcurl reports as no fragment at all.
        if bytes.hasAt,
           parsed[.user] != nil || parsed[.password] != nil || parsed[.options] != nil {
            throw .hasUserinfo
        }
        if bytes.hasHash { throw .hasFragment }
        guard let givenScheme = parsed[.scheme] else { throw .notAbsoluteHTTP }
        let scheme = givenScheme.asciiLowercased()
        guard scheme == "http" || scheme == "https" else { throw .unsupportedScheme(scheme) }
        guard let givenHost = parsed[.host], !givenHost.isEmpty else { throw .unparsable("no host") }
        // An IPv6 zone (`[fe80::1%25eth0]`, RFC 6874) picks the link the connection leaves on,
        // and libcurl keeps it apart from the host: it is put back, so that one zone's endpoint
        // admits neither another zone nor none. Zone names are case-sensitive; the address is not.
        var host = givenHost
        var comparedHost = givenHost.asciiLowercased()
        if givenHost.hasPrefix("["), let zone = parsed[.zoneID] {
            host = "\(givenHost.dropLast())%25\(zone)]"
            comparedHost = "\(comparedHost.dropLast())%25\(zone)]"
        }
        // A non-ASCII host would be compared one way and resolved (IDN) another: only the
        // ASCII (xn--) spelling is taken.
        guard host.utf8.allSatisfy({ $0 < 0x80 }) else { throw .nonASCIIHost }
        let givenPort = parsed[.port]
        guard let port = givenPort.map({ Int($0) }) ?? (scheme == "https" ? 443 : 80) else { throw .unparsable("no port") }
        let path = parsed[.path] ?? "/"
        let query = parsed[.query]
        // What is sent is libcurl's own serialization of this parse. When the text already
        // reads exactly as its parts put back together, it is sent as it is: the transfer then
        // parses the very string these parts came from, and serializing (libcurl's printf,
        // the most costly step here) is skipped.
        var reassembled = "\(givenScheme)://\(host)"
        if let givenPort { reassembled += ":\(givenPort)" }
        reassembled += path
        if let query { reassembled += "?\(query)" }
        let absolute: String
        if reassembled.hasSameBytes(as: text) {
            absolute = text
        } else {
            guard let serialized = parsed[.url] else { throw .unparsable("cannot serialize") }
            absolute = serialized
        }
        return TargetURL(scheme: scheme, host: comparedHost, port: port, path: path.isEmpty ? "/" : path,
                         query: query, absoluteString: absolute)
    }

    /// What one pass over a URL's bytes finds (a String's UTF8View, stepped through once per
    /// question, costs several times more).
    private struct ByteScan {
        /// White space, a control character, DEL or a backslash.
        var hasForbidden = false
        var hasAt = false
        var hasHash = false

        init(_ text: String) {
            var text = text
            text.withUTF8 { bytes in
                for byte in bytes {
                    switch byte {
                    case 0...0x20, 0x7F, UInt8(ascii: "\\"): hasForbidden = true
                    case UInt8(ascii: "@"): hasAt = true
                    case UInt8(ascii: "#"): hasHash = true
                    default: continue
                    }
                }
            }
        }
    }
}
