import COutbound
import Glibc

/// One libcurl easy handle and the memory it points into, reused from attempt to attempt.
///
/// libcurl keeps pointers to the header list and (with CURLOPT_POSTFIELDS) to the body until
/// the transfer ends, so this class owns both (`RequestMemory`) and frees them only when the
/// transfer is over or the handle is destroyed. https://curl.se/libcurl/c/curl_easy_setopt.html
final class CurlTransfer {
    let easy: UnsafeMutableRawPointer
    private var memory: RequestMemory?
    /// libcurl's text for the last failure (CURLOPT_ERRORBUFFER). Never logged: it can name
    /// the host. Only the fixed words of a TLS alert are taken from it (`tlsAlert`).
    private let errorText: UnsafeMutablePointer<CChar>

    /// `slot` is stored as CURLOPT_PRIVATE so a finished handle maps back in O(1).
    init?(slot: Int) {
        guard let easy = curl_easy_init() else { return nil }
        self.easy = easy
        self.slot = slot
        errorText = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorText.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    let slot: Int
    /// The collected response body of a transfer that asked for it (allocated on first use).
    private var sink: UnsafeMutablePointer<outbound_body_sink>?

    deinit {
        if let sink {
            sink.pointee.bytes.deallocate()
            sink.deallocate()
        }
        releaseMemory()
        curl_easy_cleanup(easy)
        errorText.deallocate()
    }

    private func releaseMemory() {
        memory?.deallocate()
        memory = nil
    }

    /// What the options that outlive one transfer were last set for. Transfers of the same
    /// shape (method, body or none, TLS files) reuse them; any other shape starts from a
    /// reset handle, so nothing of an earlier request (a custom method, a client
    /// certificate) can leak into the next.
    private struct Shape: Equatable {
        let method: HTTPMethod
        let hasBody: Bool
        let tls: TLSOptions
        let collectsBody: Bool
    }

    private var shape: Shape?

    /// Sets every option for `request`.
    func configure(_ request: TransferRequest) throws(CurlSetupError) {
        let wanted = Shape(method: request.method, hasBody: request.body != nil, tls: request.tls,
                           collectsBody: request.collectsResponseBody)
        sink?.pointee.length = 0
        releaseMemory()
        if wanted != shape {
            shape = nil
            curl_easy_reset(easy)
            try configureShape(wanted)
            shape = wanted
        }
        try set(CURLOPT_URL, string: request.url)
        try set(CURLOPT_CONNECTTIMEOUT_MS, long: request.connectTimeoutMs)
        try set(CURLOPT_TIMEOUT_MS, long: request.timeoutMs)
        let memory = RequestMemory(headerLines: request.headerLines, body: request.body)
        self.memory = memory
        if let body = request.body {
            try check(outbound_easy_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)), "CURLOPT_POSTFIELDSIZE_LARGE")
            try set(CURLOPT_POSTFIELDS, pointer: memory.body)
        }
        try check(outbound_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, memory.headerList), "CURLOPT_HTTPHEADER")
    }

    /// The options every transfer of `shape` shares, on a freshly reset handle.
    private func configureShape(_ shape: Shape) throws(CurlSetupError) {
        try set(CURLOPT_PRIVATE, pointer: UnsafeRawPointer(bitPattern: slot + 1))
        try set(CURLOPT_ERRORBUFFER, pointer: UnsafeRawPointer(errorText))
        // Only http and https are ever spoken, also after a (never followed) redirect.
        try set(CURLOPT_PROTOCOLS_STR, string: "http,https")
        try set(CURLOPT_REDIR_PROTOCOLS_STR, string: "http,https")
        try set(CURLOPT_FOLLOWLOCATION, long: 0)
        // Environment proxies would send loopback and partner traffic elsewhere.
        try set(CURLOPT_PROXY, string: "")
        try set(CURLOPT_NOSIGNAL, long: 1)
        try set(CURLOPT_SSL_VERIFYPEER, long: 1)
        try set(CURLOPT_SSL_VERIFYHOST, long: 2)
        if let caFile = shape.tls.caFile { try set(CURLOPT_CAINFO, string: caFile) }
        if let certFile = shape.tls.certFile { try set(CURLOPT_SSLCERT, string: certFile) }
        if let keyFile = shape.tls.keyFile { try set(CURLOPT_SSLKEY, string: keyFile) }
        if shape.collectsBody {
            try check(outbound_easy_collect_response_body(easy, bodySink()), "CURLOPT_WRITEFUNCTION")
        } else {
            try check(outbound_easy_discard_response_body(easy), "CURLOPT_WRITEFUNCTION")
        }
        switch shape.method {
        case .get:
            try set(CURLOPT_HTTPGET, long: 1)
        case .post:
            try set(CURLOPT_POST, long: 1)
        case .put, .patch, .delete:
            try set(CURLOPT_CUSTOMREQUEST, string: shape.method.rawValue)
        }
        if !shape.hasBody && (shape.method == .post || shape.method == .put || shape.method == .patch) {
            try check(outbound_easy_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, 0), "CURLOPT_POSTFIELDSIZE_LARGE")
            try set(CURLOPT_POSTFIELDS, pointer: UnsafeRawPointer(("" as StaticString).utf8Start))
        }
    }

    private func bodySink() -> UnsafeMutablePointer<outbound_body_sink> {
        if let sink { return sink }
        let limit = TransferRequest.collectedBodyLimit
        let made = UnsafeMutablePointer<outbound_body_sink>.allocate(capacity: 1)
        made.initialize(to: outbound_body_sink(bytes: .allocate(capacity: limit), length: 0, limit: limit))
        sink = made
        return made
    }

    /// The collected response body, when the request asked for it; nil otherwise.
    var collectedBody: [UInt8]? {
        guard shape?.collectsBody == true, let sink else { return nil }
        return Array(UnsafeBufferPointer(start: sink.pointee.bytes, count: sink.pointee.length))
    }

    /// Runs the configured transfer to its end on the calling thread (curl_easy_perform), for
    /// one-off requests of a command; the dispatcher never blocks this way.
    /// https://curl.se/libcurl/c/curl_easy_perform.html
    func performBlocking() -> AttemptResult {
        let code = curl_easy_perform(easy)
        guard code == CURLE_OK else { return .transportError(transportError(after: code)) }
        return .response(status: responseStatus, retryAfter: responseHeader("Retry-After"))
    }

    /// The response's status code (0 when none was received).
    var responseStatus: Int {
        var status = 0
        _ = outbound_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        return status
    }

    /// Why the peer's certificate was not accepted, in OpenSSL's words ("certificate has
    /// expired"), for a transfer that ended in CURLE_PEER_FAILED_VERIFICATION; nil otherwise.
    /// libcurl's own error buffer is not used: its text names the host.
    ///
    /// libcurl (7.88, OpenSSL) sets the result to 1 (`!X509_V_OK`) when a handshake starts and
    /// records OpenSSL's verdict only after its own host name check has passed, so a refusal
    /// with 0 or 1 is that check failing.
    func certificateProblem(after code: CURLcode) -> String? {
        guard code == CURLE_PEER_FAILED_VERIFICATION else { return nil }
        var result = 0
        guard outbound_easy_getinfo_long(easy, CURLINFO_SSL_VERIFYRESULT, &result) == CURLE_OK else { return nil }
        if result <= 1 { return "certificate not valid for this host name" }
        return outbound_x509_verify_error_text(result).map { String(cString: $0) }
    }

    /// The TLS alert the peer sent, in OpenSSL's words ("certificate required"), for a
    /// transfer that ended in a send or receive error; nil otherwise. Under TLS 1.3 a server
    /// that refuses the client's certificate does so after the client has finished its side of
    /// the handshake, and libcurl meets the alert as an error of the connection.
    func tlsAlert(after code: CURLcode) -> String? {
        guard code == CURLE_RECV_ERROR || code == CURLE_SEND_ERROR else { return nil }
        return Self.alertWords(in: String(cString: errorText))
    }

    /// The words after "alert " in OpenSSL's reason text ("…:tlsv13 alert certificate
    /// required, errno 0"), if they are only lowercase letters and spaces, as OpenSSL's fixed
    /// alert names are: nothing else of libcurl's text is ever taken.
    static func alertWords(in text: String) -> String? {
        let bytes = Array(text.utf8)
        let marker = Array("alert ".utf8)
        guard let start = bytes.indices.first(where: { bytes[$0...].starts(with: marker) }) else { return nil }
        let words = bytes[(start + marker.count)...].prefix { $0 != UInt8(ascii: ",") }
        guard words.count <= 60, words.allSatisfy({ (0x61...0x7A).contains($0) || $0 == 0x20 }) else { return nil }
        let alert = String(decoding: words, as: UTF8.self).split(separator: " ").joined(separator: " ")
        return alert.isEmpty ? nil : alert
    }

    /// A finished transfer's failure, classified, with what OpenSSL said about it (a refused
    /// certificate's reason, or the TLS alert the server sent).
    func transportError(after code: CURLcode) -> TransportError {
        Self.classify(code, certificateProblem: certificateProblem(after: code), tlsAlert: tlsAlert(after: code))
    }

    /// A response header's raw value from the last response, e.g. Retry-After.
    /// https://curl.se/libcurl/c/curl_easy_header.html
    func responseHeader(_ name: String) -> String? {
        var header: UnsafeMutablePointer<curl_header>?
        guard curl_easy_header(easy, name, 0, UInt32(CURLH_HEADER), -1, &header) == CURLHE_OK,
              let header, let value = header.pointee.value else { return nil }
        return String(cString: value)
    }

    /// Drops the header list and body once the transfer is over.
    func finish() {
        releaseMemory()
    }

    private func set(_ option: CURLoption, long value: Int) throws(CurlSetupError) {
        try check(outbound_easy_setopt_long(easy, option, value), option)
    }

    private func set(_ option: CURLoption, string value: String) throws(CurlSetupError) {
        // withCString lends the String's own bytes; passing the String itself would copy them
        // into a fresh array first. libcurl copies string options.
        try check(value.withCString { outbound_easy_setopt_string(easy, option, $0) }, option)
    }

    private func set(_ option: CURLoption, pointer value: UnsafeRawPointer?) throws(CurlSetupError) {
        try check(outbound_easy_setopt_pointer(easy, option, value), option)
    }

    private func check(_ code: CURLcode, _ option: CURLoption) throws(CurlSetupError) {
        guard code == CURLE_OK else {
            throw CurlSetupError(option: "option \(option.rawValue)", message: String(cString: curl_easy_strerror(code)))
        }
    }

    private func check(_ code: CURLcode, _ option: StaticString) throws(CurlSetupError) {
        guard code == CURLE_OK else {
            throw CurlSetupError(option: "\(option)", message: String(cString: curl_easy_strerror(code)))
        }
    }

    /// Maps a finished transfer's CURLcode to the contract's transport-error classes;
    /// `certificateProblem` (see above) is added to the generic text when there is one. A
    /// connection error that was the peer's TLS alert (`tlsAlert`) is a TLS error.
    static func classify(_ code: CURLcode, certificateProblem: String? = nil, tlsAlert: String? = nil) -> TransportError {
        var detail = String(cString: curl_easy_strerror(code))
        if let certificateProblem { detail += " (\(certificateProblem))" }
        if let tlsAlert {
            return TransportError(kind: .tls, detail: detail + " (the server sent the TLS alert '\(tlsAlert)')")
        }
        let kind: TransportError.Kind
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            kind = .dns
        case CURLE_COULDNT_CONNECT:
            kind = .connect
        case CURLE_OPERATION_TIMEDOUT:
            kind = .timeout
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
             CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
             CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CRL_BADFILE, CURLE_SSL_SHUTDOWN_FAILED, CURLE_SSL_ENGINE_NOTFOUND,
             CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_ENGINE_INITFAILED, CURLE_USE_SSL_FAILED:
            kind = .tls
        case CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE, CURLE_HTTP2, CURLE_HTTP2_STREAM,
             CURLE_WEIRD_SERVER_REPLY:
            kind = .reset
        default:
            kind = .other
        }
        return TransportError(kind: kind, detail: detail)
    }
}

/// A libcurl option that could not be set: a programming or installation problem
/// (an old libcurl, a missing TLS backend), reported for the one job, never a crash.
public struct CurlSetupError: Error, Sendable, CustomStringConvertible {
    public let option: String
    public let message: String
    public var description: String { "libcurl refused \(option): \(message)" }
}
