import Glibc

/// A destination that is down without refusing: a socket on 127.0.0.1 that listens and never
/// accepts. The kernel completes the first handshake into its one-slot backlog (that request
/// then times out unanswered) and drops the SYNs of the rest (their connects time out), the
/// way a hung or overloaded partner looks from outside. `close()` frees the port, so a
/// `LoopbackHTTPServer(port:)` can bring the destination back there.
public final class SilentListener: @unchecked Sendable {
    /// `@unchecked Sendable`: `fd` is only changed by `close()`, which tests call from one thread.
    public let port: Int
    private var fd: Int32

    public init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw LoopbackHTTPServerError(operation: "socket", code: errno) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr = in_addr(s_addr: UInt32(0x7F00_0001).bigEndian)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        var actual = sockaddr_in()
        let named = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard bound == 0, listen(fd, 0) == 0, named == 0 else {
            let error = LoopbackHTTPServerError(operation: "bind/listen", code: errno)
            Glibc.close(fd)
            throw error
        }
        port = Int(UInt16(bigEndian: actual.sin_port))
        self.fd = fd
    }

    deinit { close() }

    /// "http://127.0.0.1:<port>", without a trailing slash.
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Stops listening (pending connections are reset) and frees the port. Idempotent.
    public func close() {
        if fd >= 0 {
            Glibc.close(fd)
            fd = -1
        }
    }
}
