import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real HTTP/1.1 server on 127.0.0.1 for integration tests, on POSIX sockets: one thread per
/// connection, keep-alive, Content-Length and chunked request bodies, and scripted misbehaviour
/// (delays, resets, truncated responses). It records every request before acting on it.
public final class LoopbackHTTPServer: @unchecked Sendable {
    // @unchecked: `recorded`, `connections`, `clientSockets` and `stopped` are only touched
    // under `lock`; the listener descriptor is immutable after init.
    public let port: Int
    private let listener: Int32
    private let handler: @Sendable (RecordedRequest) -> ServerAction
    private let lock = NSCondition()
    private var recorded: [RecordedRequest] = []
    private var connections = 0
    private var clientSockets = Set<Int32>()
    private var stopped = false
    private var acceptThread: Thread?

    /// Binds 127.0.0.1 on a port the kernel picks and starts accepting.
    public init(handler: @escaping @Sendable (RecordedRequest) -> ServerAction) throws {
        self.handler = handler
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 512) == 0 else {
            let code = errno
            close(fd)
            throw POSIXError(.init(rawValue: code) ?? .EIO)
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = Int(UInt16(bigEndian: actual.sin_port))
        let thread = Thread { [weak self] in self?.acceptLoop() }
        thread.name = "loopback-accept"
        acceptThread = thread
        thread.start()
    }

    /// A server that always answers `status`.
    public convenience init(status: Int) throws {
        try self.init(handler: { _ in .respond(status: status) })
    }

    deinit { stop() }

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    public var requests: [RecordedRequest] {
        lock.lock(); defer { lock.unlock() }
        return recorded
    }

    public var requestCount: Int {
        lock.lock(); defer { lock.unlock() }
        return recorded.count
    }

    public var connectionCount: Int {
        lock.lock(); defer { lock.unlock() }
        return connections
    }

    /// Waits until at least `count` requests arrived; false on timeout.
    public func waitForRequests(_ count: Int, timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        lock.lock()
        defer { lock.unlock() }
        while recorded.count < count {
            if !lock.wait(until: deadline) { return recorded.count >= count }
        }
        return true
    }

    /// Closes the listener and every connection; idempotent.
    public func stop() {
        lock.lock()
        guard !stopped else { lock.unlock(); return }
        stopped = true
        let clients = clientSockets
        lock.unlock()
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        for client in clients { shutdown(client, Int32(SHUT_RDWR)) }
    }

    private var isStopped: Bool {
        lock.lock(); defer { lock.unlock() }
        return stopped
    }

    private func acceptLoop() {
        while !isStopped {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            lock.lock()
            if stopped {
                lock.unlock()
                close(client)
                return
            }
            connections += 1
            let id = connections
            clientSockets.insert(client)
            lock.unlock()
            let thread = Thread { [weak self] in
                self?.serve(client, connectionID: id)
                close(client)
                self?.forget(client)
            }
            thread.stackSize = 256 * 1024
            thread.start()
        }
    }

    private func forget(_ client: Int32) {
        lock.lock()
        clientSockets.remove(client)
        lock.unlock()
    }

    /// Serves requests on one connection until the client closes it or an action ends it.
    private func serve(_ client: Int32, connectionID: Int) {
        var reader = SocketReader(fd: client)
        while !isStopped {
            guard let request = reader.readRequest(connectionID: connectionID) else { return }
            lock.lock()
            recorded.append(request)
            lock.broadcast()
            lock.unlock()
            switch handler(request) {
            case .respond(let status, let headers, let body):
                guard send(client, response(status: status, headers: headers, body: body)) else { return }
            case .respondAfter(let milliseconds, let status, let headers):
                // Sleep in slices so stop() is not held up for long.
                var remaining = milliseconds
                while remaining > 0 && !isStopped {
                    usleep(UInt32(min(remaining, 50)) * 1000)
                    remaining -= 50
                }
                guard send(client, response(status: status, headers: headers, body: "")) else { return }
            case .closeWithoutResponse:
                return
            case .reset:
                var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                setsockopt(client, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
                return
            case .truncatedResponse:
                _ = send(client, Array("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789".utf8))
                return
            }
            if request.header("Connection")?.lowercased() == "close" { return }
        }
    }

    private func response(status: Int, headers: [HTTPHeaderField], body: String) -> [UInt8] {
        let bodyBytes = (status == 204 || status == 304) ? [] : Array(body.utf8)
        var text = "HTTP/1.1 \(status) \(Self.reason(status))\r\n"
        for header in headers { text += "\(header.name): \(header.value)\r\n" }
        if status != 204 && status != 304 { text += "Content-Length: \(bodyBytes.count)\r\n" }
        text += "\r\n"
        return Array(text.utf8) + bodyBytes
    }

    private func send(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let count = bytes.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
            }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return false }
            sent += count
        }
        return true
    }

    private static func reason(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 204: return "No Content"
        case 302: return "Found"
        case 400: return "Bad Request"
        case 404: return "Not Found"
        case 408: return "Request Timeout"
        case 425: return "Too Early"
        case 429: return "Too Many Requests"
        case 500: return "Internal Server Error"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        default: return "Status"
        }
    }
}

/// Buffered reads of HTTP/1.1 requests from a socket.
struct SocketReader {
    let fd: Int32
    private var buffer: [UInt8] = []

    init(fd: Int32) {
        self.fd = fd
    }

    /// Reads more bytes; false at end of stream or error.
    private mutating func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return false }
            buffer.append(contentsOf: chunk[0..<count])
            return true
        }
    }

    private mutating func readLine() -> String? {
        while true {
            if let index = buffer.firstIndex(of: 0x0A) {
                var line = Array(buffer[0..<index])
                buffer.removeSubrange(0...index)
                if line.last == 0x0D { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            guard fill() else { return nil }
        }
    }

    private mutating func readBytes(_ count: Int) -> [UInt8]? {
        while buffer.count < count {
            guard fill() else { return nil }
        }
        let bytes = Array(buffer[0..<count])
        buffer.removeSubrange(0..<count)
        return bytes
    }

    mutating func readRequest(connectionID: Int) -> RecordedRequest? {
        guard var requestLine = readLine() else { return nil }
        while requestLine.isEmpty {
            guard let next = readLine() else { return nil }
            requestLine = next
        }
        let parts = requestLine.split(separator: " ")
        guard parts.count >= 2 else { return nil }
        var headers: [HTTPHeaderField] = []
        while let line = readLine() {
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = String(line[..<colon])
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers.append(HTTPHeaderField(name: name, value: value))
        }
        func header(_ name: String) -> String? {
            headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
        }
        var body: [UInt8] = []
        if header("Transfer-Encoding")?.lowercased().contains("chunked") == true {
            while let sizeLine = readLine() {
                let size = Int(sizeLine.split(separator: ";").first ?? "", radix: 16) ?? 0
                if size == 0 {
                    // Trailers until the blank line.
                    while let trailer = readLine(), !trailer.isEmpty {}
                    break
                }
                guard let chunk = readBytes(size) else { return nil }
                body += chunk
                _ = readLine()
            }
        } else if let length = header("Content-Length").flatMap({ Int($0) }), length > 0 {
            guard let bytes = readBytes(length) else { return nil }
            body = bytes
        }
        return RecordedRequest(method: String(parts[0]), target: String(parts[1]), headers: headers, body: body,
                               connectionID: connectionID, receivedAt: Date())
    }
}
