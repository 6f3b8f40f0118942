import COutbound
import Glibc

/// One libcurl URL handle (`curl_url`): the parser the transfer itself uses, so what the gate
/// compares is what libcurl will connect to. Owns the handle and frees it in `deinit`.
/// https://curl.se/libcurl/c/curl_url_set.html, https://curl.se/libcurl/c/curl_url_get.html
final class CurlURL {
    /// The parts of a parsed URL the policy asks about.
    enum Part {
        case url, scheme, user, password, options, host, zoneID, port, path, query

        fileprivate var curlPart: CURLUPart {
            switch self {
            case .url: return CURLUPART_URL
            case .scheme: return CURLUPART_SCHEME
            case .user: return CURLUPART_USER
            case .password: return CURLUPART_PASSWORD
            case .options: return CURLUPART_OPTIONS
            case .host: return CURLUPART_HOST
            case .zoneID: return CURLUPART_ZONEID
            case .port: return CURLUPART_PORT
            case .path: return CURLUPART_PATH
            case .query: return CURLUPART_QUERY
            }
        }
    }

    private let handle: OpaquePointer

    /// Parses `text` as a URL of any scheme (the caller decides which it accepts). Throws
    /// libcurl's own description of what is wrong.
    static func parse(_ text: String) throws(URLProblem) -> CurlURL {
        guard let handle = curl_url() else { throw .unparsable("out of memory") }
        // Owned from here on: a failed parse frees it too.
        let url = CurlURL(handle)
        let result = text.withCString { curl_url_set(handle, CURLUPART_URL, $0, UInt32(CURLU_NON_SUPPORT_SCHEME)) }
        guard result == CURLUE_OK else { throw .unparsable(String(cString: curl_url_strerror(result))) }
        return url
    }

    private init(_ handle: OpaquePointer) {
        self.handle = handle
    }

    deinit {
        curl_url_cleanup(handle)
    }

    /// The part as libcurl reads it, or nil when the URL has none.
    subscript(part: Part) -> String? {
        var value: UnsafeMutablePointer<CChar>?
        guard curl_url_get(handle, part.curlPart, &value, 0) == CURLUE_OK, let value else { return nil }
        defer { curl_free(value) }
        return String(cString: value)
    }
}
