import Glibc

/// Standard output for commands that print one line per job (`list` over 100,000 jobs): bytes
/// gathered in a buffer and written with one write(2) per 64 KiB, instead of a stdio call per
/// line. `flush()` before the process exits.
public final class BufferedOutput {
    private let fd: Int32
    private var buffer: [UInt8] = []
    private static let limit = 64 << 10

    public init(fd: Int32 = 1) {
        self.fd = fd
        buffer.reserveCapacity(Self.limit + 4096)
    }

    /// Whether the output goes to a terminal (a person reads it) rather than a pipe or file.
    public var isTerminal: Bool { isatty(fd) == 1 }

    public func write(_ bytes: [UInt8]) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= Self.limit { flush() }
    }

    /// Writes `text` and a newline.
    public func line(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        buffer.append(0x0A)
        if buffer.count >= Self.limit { flush() }
    }

    /// Writes `bytes` and a newline.
    public func line(_ bytes: [UInt8]) {
        buffer.append(contentsOf: bytes)
        buffer.append(0x0A)
        if buffer.count >= Self.limit { flush() }
    }

    public func flush() {
        guard !buffer.isEmpty else { return }
        try? FileSystem.writeAll(fd, buffer, path: "standard output")
        buffer.removeAll(keepingCapacity: true)
    }
}
