import Foundation
import Glibc

/// Why `LoopbackHTTPServer` could not start: the socket call that failed and its `errno`.
public struct LoopbackHTTPServerError: Error, CustomStringConvertible {
    /// The failing call, e.g. "bind".
    public let operation: String
    /// The `errno` value the call left.
    public let code: Int32

    /// A message such as "bind: Address already in use".
    public var description: String { "\(operation): \(String(cString: strerror(code)))" }
}

/// A real HTTP/1.1 server on 127.0.0.1 for integration tests, on POSIX sockets.
///
/// It listens on a port the kernel picks, serves each accepted connection on its own thread,
/// keeps connections alive until the client closes them or sends `Connection: close`, reads
/// bodies by `Content-Length` or `Transfer-Encoding: chunked`, and records every request
/// (before acting on it) so tests can inspect method, target, headers, body and the
/// connection it came over. It never sends `100 Continue`. `handler` decides the answer,
/// including scripted misbehaviour (delays, resets, silent closes, truncated bodies); it runs
/// on the connection threads, concurrently.
///
/// `stop()` (also run by `deinit`) shuts every socket down to wake blocked threads and waits
/// for them to end.
public final class LoopbackHTTPServer: Sendable {
    /// The TCP port the server listens on, on 127.0.0.1.
    public let port: Int
    private let core: LoopbackServerCore

    /// Binds 127.0.0.1 on `port` (0: a port the kernel picks) and starts accepting
    /// connections; `handler` chooses what to do with each request. A given port lets a test
    /// bring a destination back where a `SilentListener` stood.
    public init(port requestedPort: Int = 0, handler: @escaping @Sendable (RecordedRequest) -> ServerAction) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw LoopbackHTTPServerError(operation: "socket", code: errno) }
        func fail(_ operation: String) -> LoopbackHTTPServerError {
            let error = LoopbackHTTPServerError(operation: operation, code: errno)
            close(fd)
            return error
        }
        var one: Int32 = 1
        guard setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw fail("setsockopt(SO_REUSEADDR)")
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(requestedPort).bigEndian
        address.sin_addr = in_addr(s_addr: UInt32(0x7F00_0001).bigEndian)  // 127.0.0.1 only
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw fail("bind") }
        guard listen(fd, 1024) == 0 else { throw fail("listen") }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw fail("getsockname") }
        port = Int(UInt16(bigEndian: actual.sin_port))
        core = LoopbackServerCore(listener: fd, handler: handler)
        core.start()
    }

    /// A server that answers every request with `status` and an empty body.
    public convenience init(status: Int) throws {
        try self.init(handler: { _ in .respond(status: status) })
    }

    deinit { core.stop() }

    /// "http://127.0.0.1:<port>", without a trailing slash.
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// A snapshot of every request received so far, in arrival order.
    public var requests: [RecordedRequest] { core.snapshot() }

    /// How many requests have been received so far.
    public var requestCount: Int { core.requestCount() }

    /// How many TCP connections have been accepted so far.
    public var connectionCount: Int { core.connectionCount() }

    /// Waits until at least `n` requests have been received; false if `timeout` seconds pass first.
    public func waitForRequests(_ n: Int, timeout: TimeInterval) -> Bool {
        core.waitForRequests(n, timeout: timeout)
    }

    /// Stops the server: closes the listener, shuts down every client connection (waking
    /// threads blocked in `recv`, `send` or a `.respondAfter` sleep) and waits up to 10 seconds
    /// for the threads to end (only a handler that never returns can make it wait that long).
    /// Idempotent; `deinit` calls it too. Recorded requests stay readable afterwards.
    public func stop() {
        core.stop()
    }
}

/// The listener, the recorded requests and the connection bookkeeping, shared by the public
/// server object and its threads (threads hold the core, not the server, so dropping the last
/// reference to the server still runs its `deinit` and stops everything).
///
/// `@unchecked Sendable`: every `var` below is read and written only while holding
/// `condition` (an `NSCondition`, used as the lock and to signal new requests, thread exits
/// and `stop()`); `listener` and `handler` are immutable. A client descriptor is closed only
/// under the lock, after it is removed from `openClients`, so `stop()` never shuts down a
/// descriptor number that has since been reused.
final class LoopbackServerCore: @unchecked Sendable {
    let listener: Int32
    let handler: @Sendable (RecordedRequest) -> ServerAction
    private let condition = NSCondition()
    private var recorded: [RecordedRequest] = []
    private var acceptedConnections = 0
    private var openClients = Set<Int32>()
    private var liveConnectionThreads = 0
    private var acceptLoopRunning = false
    private var stopped = false
    private var listenerClosed = false

    /// Key in `Thread.threadDictionary` that marks this server's connection threads.
    private static let threadKey = "OutboundTestSupport.LoopbackHTTPServer.connection"

    init(listener: Int32, handler: @escaping @Sendable (RecordedRequest) -> ServerAction) {
        self.listener = listener
        self.handler = handler
    }

    /// Starts the accept thread.
    func start() {
        condition.lock()
        acceptLoopRunning = true
        condition.unlock()
        let thread = Thread { [self] in
            Thread.current.name = "loopback-accept"  // set from inside so Linux shows it too
            acceptLoop()
        }
        thread.stackSize = 256 * 1024
        thread.start()
    }

    // MARK: Recording

    func snapshot() -> [RecordedRequest] {
        condition.lock(); defer { condition.unlock() }
        return recorded
    }

    func requestCount() -> Int {
        condition.lock(); defer { condition.unlock() }
        return recorded.count
    }

    func connectionCount() -> Int {
        condition.lock(); defer { condition.unlock() }
        return acceptedConnections
    }

    func waitForRequests(_ n: Int, timeout: TimeInterval) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock(); defer { condition.unlock() }
        while recorded.count < n {
            if !condition.wait(until: deadline) { return recorded.count >= n }
        }
        return true
    }

    private func record(_ request: RecordedRequest) {
        condition.lock()
        recorded.append(request)
        condition.broadcast()
        condition.unlock()
    }

    private var isStopped: Bool {
        condition.lock(); defer { condition.unlock() }
        return stopped
    }

    // MARK: Stopping

    func stop() {
        condition.lock()
        defer { condition.unlock() }
        if !stopped {
            stopped = true
            // On Linux, shutting a listening socket down makes a blocked accept() return EINVAL.
            shutdown(listener, Int32(SHUT_RDWR))
            for fd in openClients { shutdown(fd, Int32(SHUT_RDWR)) }
            condition.broadcast()
        }
        // A handler may call stop() from a connection thread: don't wait for that one.
        let ownThreads = Thread.current.threadDictionary[Self.threadKey] as? Int == Int(bitPattern: ObjectIdentifier(self)) ? 1 : 0
        let deadline = Date(timeIntervalSinceNow: 10)
        while acceptLoopRunning || liveConnectionThreads > ownThreads {
            if !condition.wait(until: deadline) { break }
        }
        if !listenerClosed && !acceptLoopRunning {
            listenerClosed = true
            close(listener)
        }
    }

    /// Sleeps `milliseconds` unless the server stops first; true if the whole sleep elapsed.
    private func sleep(milliseconds: Int) -> Bool {
        let deadline = Date(timeIntervalSinceNow: Double(max(0, milliseconds)) / 1000)
        condition.lock(); defer { condition.unlock() }
        while !stopped {
            if !condition.wait(until: deadline) { return !stopped }
        }
        return false
    }

    // MARK: Accepting

    private func acceptLoop() {
        defer {
            condition.lock()
            acceptLoopRunning = false
            if stopped && !listenerClosed {
                listenerClosed = true
                close(listener)
            }
            condition.broadcast()
            condition.unlock()
        }
        while true {
            let fd = Self.acceptCloseOnExec(listener)
            if fd < 0 {
                let code = errno
                if isStopped { return }
                switch code {
                case EINTR, ECONNABORTED, EPROTO, EAGAIN:
                    continue
                case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                    usleep(10_000)
                    continue
                default:
                    return
                }
            }
            condition.lock()
            if stopped {
                condition.unlock()
                close(fd)
                return
            }
            acceptedConnections += 1
            let id = acceptedConnections
            openClients.insert(fd)
            liveConnectionThreads += 1
            condition.unlock()

            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let marker = Int(bitPattern: ObjectIdentifier(self))
            let thread = Thread { [self] in
                Thread.current.name = "loopback-conn"
                Thread.current.threadDictionary[Self.threadKey] = marker
                serve(fd, connectionID: id)
                finish(fd)
            }
            thread.stackSize = 512 * 1024
            thread.start()
        }
    }

    /// `accept4` from libc, which Swift's Glibc module does not export (it needs `_GNU_SOURCE`);
    /// kept as an address because C function pointers are not `Sendable`.
    private static let accept4Address: Int = {
        guard let program = dlopen(nil, RTLD_NOW), let symbol = dlsym(program, "accept4") else { return 0 }
        return Int(bitPattern: symbol)
    }()

    /// Accepts a connection whose descriptor is close-on-exec from the start, so processes the
    /// tests spawn never inherit it (an inherited copy would keep the connection open after
    /// the server closes it). Falls back to `accept` plus `FD_CLOEXEC` if `accept4` is missing.
    private static func acceptCloseOnExec(_ listener: Int32) -> Int32 {
        typealias Accept4 = @convention(c) (Int32, UnsafeMutablePointer<sockaddr>?, UnsafeMutablePointer<socklen_t>?, Int32) -> Int32
        if let address = UnsafeRawPointer(bitPattern: accept4Address) {
            return unsafeBitCast(address, to: Accept4.self)(listener, nil, nil, Int32(SOCK_CLOEXEC.rawValue))
        }
        let fd = accept(listener, nil, nil)
        if fd >= 0 { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return fd
    }

    /// Forgets and closes a client socket, and counts its thread as ended.
    private func finish(_ fd: Int32) {
        condition.lock()
        openClients.remove(fd)
        close(fd)
        liveConnectionThreads -= 1
        condition.broadcast()
        condition.unlock()
    }

    // MARK: Serving

    /// Serves requests on one connection until the client closes it, asks to close it, an
    /// action ends it, or the server stops. The caller closes the socket.
    private func serve(_ fd: Int32, connectionID: Int) {
        var reader = HTTPRequestReader(fd: fd)
        while !isStopped {
            let head: HTTPRequestReader.Head
            let body: [UInt8]
            switch reader.readRequest() {
            case .closed:
                return
            case .malformed(let status):
                _ = sendAll(fd, Self.encode(status: status, headers: [], body: [], isHead: false, closing: true))
                closeGracefully(fd)
                return
            case .request(let h, let b):
                head = h
                body = b
            }
            let request = RecordedRequest(method: head.method, target: head.target, headers: head.headers,
                                          body: body, connectionID: connectionID, receivedAt: Date())
            record(request)
            let keepAlive = Self.wantsKeepAlive(version: head.version, request: request)
            let isHead = head.method == "HEAD"
            switch handler(request) {
            case .respond(let status, let headers, let text):
                let bytes = Self.encode(status: status, headers: headers, body: Array(text.utf8), isHead: isHead, closing: !keepAlive)
                guard sendAll(fd, bytes) else { return }
            case .respondAfter(let milliseconds, let status, let headers):
                guard sleep(milliseconds: milliseconds) else { return }
                let bytes = Self.encode(status: status, headers: headers, body: [], isHead: isHead, closing: !keepAlive)
                guard sendAll(fd, bytes) else { return }
            case .closeWithoutResponse:
                closeGracefully(fd)
                return
            case .reset:
                var option = linger(l_onoff: 1, l_linger: 0)
                setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
                return
            case .truncatedResponse:
                _ = sendAll(fd, Array("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789".utf8))
                closeGracefully(fd)
                return
            case .slowBody(let interval):
                guard sendAll(fd, Array("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n".utf8)) else { return }
                for byte in Array("0123456789".utf8) {
                    guard sleep(milliseconds: interval), sendAll(fd, [byte]) else { return }
                }
            case .endlessBody(let status):
                let head = "HTTP/1.1 \(status) \(Self.reasonPhrase(status))\r\nTransfer-Encoding: chunked\r\n\r\n"
                guard sendAll(fd, Array(head.utf8)) else { return }
                let chunk = Array("4000\r\n".utf8) + [UInt8](repeating: 0x61, count: 0x4000) + Array("\r\n".utf8)
                while !isStopped {
                    guard sendAll(fd, chunk) else { return }
                }
                return
            case .hugeHeaders(let status, let bytes):
                let line = Array("X-Filler: \(String(repeating: "a", count: 1000))\r\n".utf8)
                var head = Array("HTTP/1.1 \(status) \(Self.reasonPhrase(status))\r\n".utf8)
                for _ in 0..<max(1, bytes / line.count) { head += line }
                head += Array("Content-Length: 0\r\n\r\n".utf8)
                guard sendAll(fd, head) else { return }
            case .resetMidBody(let status):
                _ = sendAll(fd, Array("HTTP/1.1 \(status) \(Self.reasonPhrase(status))\r\nContent-Length: 1000\r\n\r\n0123456789".utf8))
                usleep(50_000)  // let the head reach the client before the reset discards it
                var option = linger(l_onoff: 1, l_linger: 0)
                setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
                return
            }
            if !keepAlive {
                closeGracefully(fd)
                return
            }
        }
    }

    /// Sends our FIN, then discards whatever the client still sends for up to half a second,
    /// so that closing with unread data does not turn the FIN into a RST.
    private func closeGracefully(_ fd: Int32) {
        shutdown(fd, Int32(SHUT_WR))
        let deadline = Date(timeIntervalSinceNow: 0.5)
        var scratch = [UInt8](repeating: 0, count: 4096)
        while true {
            let left = Int32(deadline.timeIntervalSinceNow * 1000)
            if left <= 0 { return }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, left)
            if ready < 0 && errno == EINTR { continue }
            if ready <= 0 { return }
            let count = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return }
        }
    }

    /// Writes all of `bytes`; false if the peer is gone. Never raises SIGPIPE.
    private func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw in
            var sent = 0
            while sent < raw.count {
                let count = send(fd, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { return false }
                sent += count
            }
            return true
        }
    }

    /// HTTP/1.1 keeps the connection unless the client says `close`; HTTP/1.0 only on `keep-alive`.
    static func wantsKeepAlive(version: String, request: RecordedRequest) -> Bool {
        let tokens = request.headers(named: "Connection")
            .flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        if tokens.contains("close") { return false }
        if version == "HTTP/1.0" { return tokens.contains("keep-alive") }
        return true
    }

    /// The bytes of a response: status line, `headers` in order, `Content-Length` (unless
    /// given or the status has no body), `Connection: close` when closing, then the body.
    static func encode(status: Int, headers: [HTTPHeaderField], body: [UInt8], isHead: Bool, closing: Bool) -> [UInt8] {
        let bodiless = (100..<200).contains(status) || status == 204 || status == 304
        var text = "HTTP/1.1 \(status) \(reasonPhrase(status))\r\n"
        for header in headers { text += "\(header.name): \(header.value)\r\n" }
        let has = { (name: String) in headers.contains { asciiCaseInsensitiveEqual($0.name, name) } }
        if !bodiless && !has("Content-Length") && !has("Transfer-Encoding") {
            text += "Content-Length: \(body.count)\r\n"
        }
        if closing && !has("Connection") { text += "Connection: close\r\n" }
        text += "\r\n"
        var bytes = Array(text.utf8)
        if !bodiless && !isHead { bytes += body }
        return bytes
    }

    /// The usual reason phrase for `status` ("Status" for unknown codes; clients ignore it).
    static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 100: return "Continue"
        case 200: return "OK"
        case 201: return "Created"
        case 202: return "Accepted"
        case 204: return "No Content"
        case 301: return "Moved Permanently"
        case 302: return "Found"
        case 303: return "See Other"
        case 304: return "Not Modified"
        case 307: return "Temporary Redirect"
        case 308: return "Permanent Redirect"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 409: return "Conflict"
        case 410: return "Gone"
        case 413: return "Content Too Large"
        case 415: return "Unsupported Media Type"
        case 422: return "Unprocessable Content"
        case 425: return "Too Early"
        case 429: return "Too Many Requests"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        default: return "Status"
        }
    }
}

/// Reads HTTP/1.1 requests from a blocking socket, buffering what arrives past each request.
struct HTTPRequestReader {
    /// A parsed request line and header section.
    struct Head {
        let method: String
        let target: String
        let version: String
        let headers: [HTTPHeaderField]
    }

    /// The result of reading one request.
    enum Outcome {
        /// A complete request.
        case request(Head, [UInt8])
        /// The peer closed (or the socket failed) before a complete request arrived.
        case closed
        /// The request cannot be parsed; answer with this status and close.
        case malformed(Int)
    }

    private enum Line {
        case line([UInt8])
        case closed
        case tooLong
    }

    let fd: Int32
    /// Received bytes; the unread ones are `buffer[start...]`.
    private var buffer: [UInt8] = []
    private var start = 0
    private var scratch = [UInt8](repeating: 0, count: 64 * 1024)

    init(fd: Int32) {
        self.fd = fd
    }

    private var unread: Int { buffer.count - start }

    /// Receives more bytes; false at end of stream or on error.
    private mutating func fill() -> Bool {
        if start > 0 && (start == buffer.count || start >= 64 * 1024) {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        while true {
            let count = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return false }
            buffer.append(contentsOf: scratch[0..<count])
            return true
        }
    }

    /// One line without its LF (and CR); `.tooLong` once `limit` bytes arrived without a LF.
    private mutating func readLine(limit: Int) -> Line {
        var scanned = 0  // unread bytes already known to hold no LF
        while true {
            if let newline = buffer[(start + scanned)...].firstIndex(of: 0x0A) {
                var end = newline
                if end > start && buffer[end - 1] == 0x0D { end -= 1 }
                let line = Array(buffer[start..<end])
                start = newline + 1
                return .line(line)
            }
            scanned = unread
            if unread > limit { return .tooLong }
            guard fill() else { return .closed }
        }
    }

    private mutating func readBytes(_ count: Int) -> [UInt8]? {
        while unread < count {
            guard fill() else { return nil }
        }
        let bytes = Array(buffer[start..<(start + count)])
        start += count
        return bytes
    }

    /// Reads the next request: head, then body by chunked coding or Content-Length.
    mutating func readRequest() -> Outcome {
        var budget = HTTPRequestReaderLimits.head
        var requestLine: [UInt8] = []
        // Empty lines before a request line are allowed (RFC 9112 §2.2).
        repeat {
            switch readLine(limit: budget) {
            case .closed: return .closed
            case .tooLong: return .malformed(431)
            case .line(let line):
                requestLine = line
                budget -= line.count + 2
            }
        } while requestLine.isEmpty && budget > 0

        let parts = requestLine.split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty else { return .malformed(400) }
        let method = String(decoding: parts[0], as: UTF8.self)
        let target = String(decoding: parts[1], as: UTF8.self)
        let version = String(decoding: parts[2], as: UTF8.self)
        guard version.hasPrefix("HTTP/1.") else { return .malformed(505) }

        var headers: [HTTPHeaderField] = []
        while true {
            guard budget > 0 else { return .malformed(431) }
            switch readLine(limit: budget) {
            case .closed: return .closed
            case .tooLong: return .malformed(431)
            case .line(let line):
                budget -= line.count + 2
                if line.isEmpty { break }
                if line.first == 0x20 || line.first == 0x09 {
                    // Obsolete line folding: continue the previous field's value.
                    guard let last = headers.popLast() else { return .malformed(400) }
                    let more = Self.trim(line[...])
                    headers.append(HTTPHeaderField(name: last.name, value: last.value + " " + String(decoding: more, as: UTF8.self)))
                    continue
                }
                guard let colon = line.firstIndex(of: 0x3A), colon > 0 else { return .malformed(400) }
                let name = String(decoding: line[..<colon], as: UTF8.self)
                let value = String(decoding: Self.trim(line[(colon + 1)...]), as: UTF8.self)
                headers.append(HTTPHeaderField(name: name, value: value))
                continue
            }
            break
        }
        let head = Head(method: method, target: target, version: version, headers: headers)
        func values(_ name: String) -> [String] {
            headers.filter { asciiCaseInsensitiveEqual($0.name, name) }.map(\.value)
        }

        let codings = values("Transfer-Encoding").flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        if !codings.isEmpty {
            guard codings.last == "chunked" else { return .malformed(501) }
            return readChunkedBody(head: head)
        }
        let lengths = values("Content-Length").flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard let first = lengths.first else { return .request(head, []) }
        guard lengths.allSatisfy({ $0 == first }), let length = Int(first), length >= 0 else { return .malformed(400) }
        guard length <= HTTPRequestReaderLimits.body else { return .malformed(413) }
        guard let body = readBytes(length) else { return .closed }
        return .request(head, body)
    }

    private mutating func readChunkedBody(head: Head) -> Outcome {
        var body: [UInt8] = []
        while true {
            let sizeLine: [UInt8]
            switch readLine(limit: 4096) {
            case .closed: return .closed
            case .tooLong: return .malformed(400)
            case .line(let line): sizeLine = line
            }
            let digits = Self.trim(sizeLine.split(separator: 0x3B, maxSplits: 1, omittingEmptySubsequences: false).first ?? [])
            guard !digits.isEmpty, digits.count <= 15,
                  let size = Int(String(decoding: digits, as: UTF8.self), radix: 16) else { return .malformed(400) }
            if size == 0 {
                // Trailer fields, up to the blank line; not recorded.
                var budget = HTTPRequestReaderLimits.head
                while true {
                    switch readLine(limit: budget) {
                    case .closed: return .closed
                    case .tooLong: return .malformed(431)
                    case .line(let line):
                        if line.isEmpty { return .request(head, body) }
                        budget -= line.count + 2
                    }
                }
            }
            guard body.count + size <= HTTPRequestReaderLimits.body else { return .malformed(413) }
            guard let chunk = readBytes(size) else { return .closed }
            body += chunk
            switch readLine(limit: 2) {
            case .closed: return .closed
            case .tooLong: return .malformed(400)
            case .line(let line): guard line.isEmpty else { return .malformed(400) }
            }
        }
    }

    /// `bytes` without leading and trailing spaces and tabs.
    private static func trim(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var slice = bytes
        while let first = slice.first, first == 0x20 || first == 0x09 { slice = slice.dropFirst() }
        while let last = slice.last, last == 0x20 || last == 0x09 { slice = slice.dropLast() }
        return slice
    }
}

/// Size limits for incoming requests.
enum HTTPRequestReaderLimits {
    /// Largest request head (request line plus header fields), in bytes.
    static let head = 1 << 20
    /// Largest request body, in bytes.
    static let body = 1 << 30
}
