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
    /// What the transfer sent and read back, counted by COutbound's callbacks (sends, the last
    /// status line, response bytes). Owned here: libcurl holds its address in the handle.
    private let meter: UnsafeMutablePointer<outbound_transfer_meter>

    /// Requests one attempt may put on the wire: the first and one silent resend by libcurl
    /// (a reused connection that died before any response). A further one is refused and the
    /// attempt ends as a `reset`, so Outbound's own backoff decides about the next try.
    static let maxSendsPerAttempt = 2
    /// Response bytes (header section and body) read before Outbound stops reading: the
    /// status line decides the outcome, the rest only has to be drained up to a bound.
    static let maxResponseBytes = 64 * 1024

    /// The TLS session cache this handle shares with its engine's others, if any.
    private let share: CurlShare?

    /// `slot` is stored as CURLOPT_PRIVATE so a finished handle maps back in O(1).
    init?(slot: Int, share: CurlShare? = nil) {
        guard let easy = curl_easy_init() else { return nil }
        self.easy = easy
        self.slot = slot
        self.share = share
        errorText = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorText.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        meter = .allocate(capacity: 1)
        meter.initialize(to: outbound_transfer_meter(sends: 0, max_sends: Self.maxSendsPerAttempt, resend_refused: 0, status: 0,
                                                     received: 0, max_response_bytes: Self.maxResponseBytes, capped: 0,
                                                     body: nil, body_capacity: Self.maxResponseBytes, body_length: 0))
    }

    let slot: Int
    /// Where the response body of a transfer that asked for it is copied (allocated on first
    /// use, `maxResponseBytes` long; the meter's `body` points here while it is wanted).
    private var collected: UnsafeMutablePointer<UInt8>?

    deinit {
        collected?.deallocate()
        releaseMemory()
        curl_easy_cleanup(easy)
        errorText.deallocate()
        meter.deallocate()
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
        /// The body is read from the job's own bytes through callbacks rather than copied.
        let streamsBody: Bool
        let tls: TLSOptions
    }

    /// Bodies from this size on are streamed from the job's own bytes instead of copied next
    /// to the header list: a copy would hold every in-flight job's body twice, which the byte
    /// budget (`maxClaimedBytes`) does not count. Smaller ones are copied: one allocation and
    /// no callbacks is the faster path for the common few-kilobyte job.
    static let streamedBodyBytes = 256 * 1024

    /// The body being streamed and how far libcurl has read it.
    private var streamedBody: [UInt8] = []
    private var streamedOffset = 0

    private var shape: Shape?

    /// Sets every option for `request`.
    func configure(_ request: TransferRequest) throws(CurlSetupError) {
        let streams = (request.body?.count ?? 0) >= Self.streamedBodyBytes
        let wanted = Shape(method: request.method, hasBody: request.body != nil, streamsBody: streams, tls: request.tls)
        meter.pointee.body = request.collectsResponseBody ? bodyBuffer() : nil
        releaseMemory()
        outbound_meter_reset(meter)
        if wanted != shape {
            shape = nil
            curl_easy_reset(easy)
            try configureShape(wanted)
            shape = wanted
        }
        try set(CURLOPT_URL, string: request.url)
        try set(CURLOPT_CONNECTTIMEOUT_MS, long: request.connectTimeoutMs)
        try set(CURLOPT_TIMEOUT_MS, long: request.timeoutMs)
        let memory = RequestMemory(headerLines: request.headerLines, body: streams ? nil : request.body)
        self.memory = memory
        if let body = request.body {
            try check(outbound_easy_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)), "CURLOPT_POSTFIELDSIZE_LARGE")
            if streams {
                streamedBody = body
                streamedOffset = 0
            } else {
                try set(CURLOPT_POSTFIELDS, pointer: memory.body)
            }
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
        if let share { try set(CURLOPT_SHARE, pointer: share.handle) }
        if let caFile = shape.tls.caFile {
            // The CA file replaces the system's trust, both of its parts: libcurl's built-in
            // bundle (CURLOPT_CAINFO) and its built-in folder of hashed certificates
            // (CURLOPT_CAPATH, /etc/ssl/certs on Debian), which OpenSSL would otherwise still
            // search for an issuer the file lacks. With no folder, libcurl also keeps the
            // parsed file for the multi handle's connections (its CA cache) instead of
            // reading it again for each one.
            try set(CURLOPT_CAINFO, string: caFile)
            try check(outbound_easy_setopt_string(easy, CURLOPT_CAPATH, nil), CURLOPT_CAPATH)
        }
        if let certFile = shape.tls.certFile { try set(CURLOPT_SSLCERT, string: certFile) }
        if let keyFile = shape.tls.keyFile { try set(CURLOPT_SSLKEY, string: keyFile) }
        try check(outbound_easy_install_meter(easy, meter), "CURLOPT_PREREQFUNCTION, CURLOPT_HEADERFUNCTION, CURLOPT_WRITEFUNCTION")
        switch shape.method {
        case .get:
            try set(CURLOPT_HTTPGET, long: 1)
        case .post:
            try set(CURLOPT_POST, long: 1)
        case .put, .patch, .delete:
            try set(CURLOPT_CUSTOMREQUEST, string: shape.method.rawValue)
        }
        if shape.streamsBody {
            // A body from the read callback goes as a POST body with its Content-Length
            // (CURLOPT_POSTFIELDSIZE_LARGE), under the job's method name when not POST.
            if shape.method != .post { try set(CURLOPT_POST, long: 1) }
            let userdata = Unmanaged.passUnretained(self).toOpaque()
            try check(outbound_easy_install_body_stream(easy, { buffer, size, count, userdata in
                Unmanaged<CurlTransfer>.fromOpaque(userdata!).takeUnretainedValue().readBody(into: buffer!, capacity: size * count)
            }, { userdata, offset, origin in
                Unmanaged<CurlTransfer>.fromOpaque(userdata!).takeUnretainedValue().seekBody(to: offset, origin: origin)
            }, userdata), "CURLOPT_READFUNCTION, CURLOPT_SEEKFUNCTION")
        }
        if !shape.hasBody && (shape.method == .post || shape.method == .put || shape.method == .patch) {
            try check(outbound_easy_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, 0), "CURLOPT_POSTFIELDSIZE_LARGE")
            try set(CURLOPT_POSTFIELDS, pointer: UnsafeRawPointer(("" as StaticString).utf8Start))
        }
    }

    private func bodyBuffer() -> UnsafeMutablePointer<UInt8> {
        if let collected { return collected }
        let made = UnsafeMutablePointer<UInt8>.allocate(capacity: Self.maxResponseBytes)
        collected = made
        return made
    }

    /// The collected response body, when the request asked for it; nil otherwise.
    var collectedBody: [UInt8]? {
        guard let body = meter.pointee.body else { return nil }
        return Array(UnsafeBufferPointer(start: body, count: meter.pointee.body_length))
    }

    /// Runs the configured transfer to its end on the calling thread (curl_easy_perform), for
    /// one-off requests of a command; the dispatcher never blocks this way.
    /// https://curl.se/libcurl/c/curl_easy_perform.html
    func performBlocking() -> AttemptResult {
        result(after: curl_easy_perform(easy)).result
    }

    /// Requests the last transfer put on the wire (libcurl's silent resend included).
    var sends: Int { meter.pointee.sends }

    /// The last transfer's result, judged from its CURLcode and the meter (contract section 7):
    /// a 2xx status line that arrived is an answer whatever happened after it, and so is any
    /// status whose response Outbound stopped reading at `maxResponseBytes`; `ending` says how
    /// such a response ended. A resend refused by the meter is a `reset`.
    func result(after code: CURLcode) -> (result: AttemptResult, ending: ResponseEnding?) {
        if code == CURLE_OK {
            let status = responseStatus
            // Only a response that may be retried has a use for Retry-After; looking it up
            // walks every response header, so a success skips it.
            let retryAfter = (200...299).contains(status) ? nil : responseHeader("Retry-After")
            return (.response(status: status, retryAfter: retryAfter), nil)
        }
        let metered = meter.pointee
        if metered.resend_refused != 0 {
            let detail = "the connection was lost before any response, again after libcurl's resend on another connection; "
                + "not sent a third time in this attempt"
            return (.transportError(TransportError(kind: .reset, detail: detail)), nil)
        }
        let status = Int(metered.status)
        let capped = metered.capped != 0
        if (200...299).contains(status) {
            return (.response(status: status, retryAfter: nil),
                    capped ? .capped(limit: Self.maxResponseBytes) : .broken(transportError(after: code)))
        }
        if capped && status >= 200 {
            return (.response(status: status, retryAfter: responseHeader("Retry-After")), .capped(limit: Self.maxResponseBytes))
        }
        if capped {
            let detail = "the response's header section passed \(Self.maxResponseBytes) bytes before a final status line"
            return (.transportError(TransportError(kind: .reset, detail: detail)), nil)
        }
        return (.transportError(transportError(after: code)), nil)
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
        var osErrno = 0
        _ = outbound_easy_getinfo_long(easy, CURLINFO_OS_ERRNO, &osErrno)
        return Self.classify(code, certificateProblem: certificateProblem(after: code), tlsAlert: tlsAlert(after: code),
                             osErrno: Int32(clamping: osErrno))
    }

    /// errno values of a failed socket or connect call that say this host ran short, not the
    /// destination: libcurl reports them as CURLE_COULDNT_CONNECT like a refused port.
    static let localErrnos: Set<Int32> = [EMFILE, ENFILE, ENOMEM, ENOBUFS, EADDRNOTAVAIL]

    /// CURLcodes that are about this host's own resources or files, never the destination.
    static let localCodes: Set<UInt32> = [
        CURLE_OUT_OF_MEMORY, CURLE_FAILED_INIT, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CRL_BADFILE,
        CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_ENGINE_INITFAILED,
    ].map(\.rawValue).reduce(into: []) { $0.insert($1) }

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
        streamedBody = []
    }

    /// CURLOPT_READFUNCTION: the next bytes of the streamed body.
    private func readBody(into buffer: UnsafeMutablePointer<CChar>, capacity: Int) -> Int {
        let count = min(capacity, streamedBody.count - streamedOffset)
        guard count > 0 else { return 0 }
        streamedBody.withUnsafeBytes { bytes in
            UnsafeMutableRawPointer(buffer).copyMemory(from: bytes.baseAddress! + streamedOffset, byteCount: count)
        }
        streamedOffset += count
        return count
    }

    /// CURLOPT_SEEKFUNCTION: libcurl rewinds before sending the request again.
    private func seekBody(to offset: curl_off_t, origin: Int32) -> Int32 {
        guard origin == SEEK_SET, offset >= 0, Int(offset) <= streamedBody.count else { return Int32(CURL_SEEKFUNC_CANTSEEK) }
        streamedOffset = Int(offset)
        return Int32(CURL_SEEKFUNC_OK)
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
    /// `osErrno` (CURLINFO_OS_ERRNO) marks a connect failure that was this host running short
    /// (`localErrnos`) as local.
    static func classify(_ code: CURLcode, certificateProblem: String? = nil, tlsAlert: String? = nil,
                         osErrno: Int32 = 0) -> TransportError {
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
        let isLocal = localCodes.contains(code.rawValue) || (kind == .connect && localErrnos.contains(osErrno))
        return TransportError(kind: kind, detail: detail, isLocal: isLocal)
    }
}

/// A libcurl option that could not be set: a programming or installation problem
/// (an old libcurl, a missing TLS backend), reported for the one job, never a crash.
public struct CurlSetupError: Error, Sendable, CustomStringConvertible {
    public let option: String
    public let message: String
    public var description: String { "libcurl refused \(option): \(message)" }
}
