import COutbound
import Glibc

/// Parses URLs with libcurl's URL API (`curl_url`), the same parser the transfer uses.
/// https://curl.se/libcurl/c/curl_url_set.html, https://curl.se/libcurl/c/curl_url_get.html
public enum CurlURLParser {
    /// Parses an absolute http(s) URL, rejecting userinfo, fragments and odd characters.
    public static func parse(_ text: String) throws(URLProblem) -> TargetURL {
        if text.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "\\") }) {
            throw .forbiddenCharacter
        }
        let lowered = text.lowercased()
        guard lowered.hasPrefix("http://") || lowered.hasPrefix("https://") else {
            if let colon = text.firstIndex(of: ":"), text[..<colon].allSatisfy({ $0.isLetter || $0.isNumber || "+-.".contains($0) }), colon != text.startIndex {
                let scheme = String(text[..<colon]).lowercased()
                if scheme != "http" && scheme != "https" { throw .unsupportedScheme(scheme) }
            }
            throw .notAbsoluteHTTP
        }
        guard let handle = curl_url() else { throw .unparsable("out of memory") }
        defer { curl_url_cleanup(handle) }
        let setResult = curl_url_set(handle, CURLUPART_URL, text, UInt32(CURLU_NON_SUPPORT_SCHEME))
        guard setResult == CURLUE_OK else {
            throw .unparsable(String(cString: curl_url_strerror(setResult)))
        }
        if part(handle, CURLUPART_USER) != nil || part(handle, CURLUPART_PASSWORD) != nil || part(handle, CURLUPART_OPTIONS) != nil {
            throw .hasUserinfo
        }
        if part(handle, CURLUPART_FRAGMENT) != nil { throw .hasFragment }
        guard let scheme = part(handle, CURLUPART_SCHEME)?.lowercased() else { throw .notAbsoluteHTTP }
        guard scheme == "http" || scheme == "https" else { throw .unsupportedScheme(scheme) }
        guard let host = part(handle, CURLUPART_HOST), !host.isEmpty else { throw .unparsable("no host") }
        guard let portText = part(handle, CURLUPART_PORT, flags: UInt32(CURLU_DEFAULT_PORT)), let port = Int(portText) else {
            throw .unparsable("no port")
        }
        let path = part(handle, CURLUPART_PATH) ?? "/"
        let query = part(handle, CURLUPART_QUERY)
        guard let absolute = part(handle, CURLUPART_URL) else { throw .unparsable("cannot serialize") }
        return TargetURL(scheme: scheme, host: host.lowercased(), port: port, path: path.isEmpty ? "/" : path,
                         query: query, absoluteString: absolute)
    }

    private static func part(_ handle: OpaquePointer, _ which: CURLUPart, flags: UInt32 = 0) -> String? {
        var value: UnsafeMutablePointer<CChar>?
        guard curl_url_get(handle, which, &value, flags) == CURLUE_OK, let value else { return nil }
        defer { curl_free(value) }
        return String(cString: value)
    }
}
