import COutbound
import Glibc

/// libcurl's multi interface: many transfers in flight on one thread, connections kept in one
/// shared cache and reused. Driven by `curl_multi_poll`, which also watches the dispatcher's
/// own descriptors (inotify, signalfd), so one loop waits on everything at once.
/// https://curl.se/libcurl/c/libcurl-multi.html, https://curl.se/libcurl/c/curl_multi_poll.html
final class CurlMulti {
    private let multi: UnsafeMutableRawPointer
    /// The descriptors `poll` watches besides the transfers' sockets (`watch`), in the form
    /// `curl_multi_poll` takes, kept from call to call.
    private var waits: [curl_waitfd] = []

    /// Throws `LibcurlUnavailable` when libcurl cannot be loaded, `CurlSetupError` when it
    /// cannot be set up.
    init(maxConnections: Int) throws {
        if let failure = outbound_libcurl_load() { throw LibcurlUnavailable(reason: String(cString: failure)) }
        let initialized = curl_global_init(Int(CURL_GLOBAL_DEFAULT))
        guard initialized == CURLE_OK else {
            throw CurlSetupError(option: "curl_global_init", message: String(cString: curl_easy_strerror(initialized)))
        }
        guard let multi = curl_multi_init() else {
            throw CurlSetupError(option: "curl_multi_init", message: "out of memory")
        }
        self.multi = multi
        try Self.check("CURLMOPT_MAXCONNECTS", outbound_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, maxConnections))
        // No multiplexing: with it, libcurl 7.88 parks a second transfer to a host until the first
        // connection's protocol is known and can leave it parked for a second. Parallel
        // keep-alive connections, at most perHostConcurrency per host, serve us better.
        try Self.check("CURLMOPT_PIPELINING", outbound_multi_setopt_long(multi, CURLMOPT_PIPELINING, 0))
    }

    private static func check(_ call: String, _ code: CURLMcode) throws(CurlSetupError) {
        guard code == CURLM_OK else { throw CurlSetupError(option: call, message: String(cString: curl_multi_strerror(code))) }
    }

    deinit {
        curl_multi_cleanup(multi)
    }

    func add(_ transfer: CurlTransfer) throws(CurlSetupError) {
        let code = curl_multi_add_handle(multi, transfer.easy)
        guard code == CURLM_OK else {
            throw CurlSetupError(option: "curl_multi_add_handle", message: String(cString: curl_multi_strerror(code)))
        }
    }

    /// Takes a transfer out of the multi handle. libcurl refuses only a handle that is not in
    /// it or a call from inside a callback, neither of which the engine makes.
    func remove(_ transfer: CurlTransfer) {
        let code = curl_multi_remove_handle(multi, transfer.easy)
        precondition(code == CURLM_OK, "curl_multi_remove_handle: \(String(cString: curl_multi_strerror(code)))")
    }

    /// Lets libcurl do whatever socket work is ready; returns the number of running transfers.
    /// Throws when libcurl cannot go on (out of memory, an internal error).
    @discardableResult
    func perform() throws(CurlMultiError) -> Int {
        var running: Int32 = 0
        let code = curl_multi_perform(multi, &running)
        guard code == CURLM_OK else { throw CurlMultiError(call: "curl_multi_perform", code: code) }
        return Int(running)
    }

    /// Sets the descriptors `poll` watches for reading besides the transfers' sockets.
    func watch(_ descriptors: [Int32]) {
        waits = descriptors.map { curl_waitfd(fd: $0, events: Int16(CURL_WAIT_POLLIN), revents: 0) }
    }

    /// Waits until a transfer's socket, one of the watched descriptors (for reading) or the
    /// timeout is ready. Returns the watched descriptors that became readable, in their order
    /// (an empty array, which allocates nothing, when none did).
    func poll(timeoutMs: Int) throws(CurlMultiError) -> [Int32] {
        var ready: Int32 = 0
        let timeout = Int32(clamping: max(0, timeoutMs))
        let count = UInt32(waits.count)
        let code = waits.withUnsafeMutableBufferPointer { buffer in
            // libcurl writes them only when something was ready, not when its poll times out.
            for index in buffer.indices { buffer[index].revents = 0 }
            return curl_multi_poll(multi, buffer.baseAddress, count, timeout, &ready)
        }
        guard code == CURLM_OK else { throw CurlMultiError(call: "curl_multi_poll", code: code) }
        var readable: [Int32] = []
        for wait in waits where wait.revents != 0 { readable.append(wait.fd) }
        return readable
    }

    /// The next finished transfer: the slot stored in CURLOPT_PRIVATE and its result code.
    func nextFinished() -> (slot: Int, code: CURLcode)? {
        var easy: UnsafeMutableRawPointer?
        var code = CURLE_OK
        guard outbound_multi_next_done(multi, &easy, &code) == 1, let easy else { return nil }
        var privatePointer: UnsafeMutablePointer<CChar>?
        _ = outbound_easy_getinfo_pointer(easy, CURLINFO_PRIVATE, &privatePointer)
        guard let privatePointer else { return nil }
        return (Int(bitPattern: privatePointer) - 1, code)
    }
}

/// libcurl.so.4 could not be loaded (not installed, say); `reason` says why and what to install.
public struct LibcurlUnavailable: Error, Sendable, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}

/// libcurl's multi handle could not go on: the loop stops, putting its claims back.
public struct CurlMultiError: Error, Sendable, CustomStringConvertible {
    public let call: String
    public let message: String

    init(call: String, code: CURLMcode) {
        self.call = call
        message = String(cString: curl_multi_strerror(code))
    }

    public var description: String { "libcurl's \(call) failed: \(message)" }
}
