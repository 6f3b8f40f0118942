/// Reads the lines appended to the audit log as they come, as `tail -F` does: when the file
/// at `path` is replaced (logrotate renamed it and the dispatcher opened a new one), the rest
/// of the old file is read first, then the new one from its start. Reads only.
public final class AuditFollower {
    public let path: String
    private var fd: Int32?
    private var inode: UInt64 = 0
    private var partial: [UInt8] = []
    private var chunk = [UInt8](repeating: 0, count: 256 << 10)

    /// Starts at the end of the log, or at its start with `fromStart`.
    public init(path: String, fromStart: Bool) throws {
        self.path = path
        try openCurrent(atEnd: !fromStart)
    }

    deinit { if let fd { FileSystem.closeDescriptor(fd) } }

    private func openCurrent(atEnd: Bool) throws {
        guard let opened = try FileSystem.openForReading(path) else { return }
        fd = opened
        inode = try FileSystem.identity(of: opened, path: path).inode
        if atEnd { _ = try FileSystem.seekToEnd(opened, path: path) }
    }

    /// Hands `body` every complete line appended since the last call; true if there were any.
    @discardableResult
    public func readNew(_ body: (UnsafeRawBufferPointer) -> Void) throws -> Bool {
        var any = false
        while true {
            if fd == nil { try openCurrent(atEnd: false) }
            guard let current = fd else { return any }
            if try readToEnd(current, body) { any = true }
            // At the end of this file: if another now has its name, this one gets no more lines.
            guard let now = FileSystem.identity(atPath: path), now.inode != inode else { return any }
            FileSystem.closeDescriptor(current)
            fd = nil
            partial.removeAll()
        }
    }

    private func readToEnd(_ current: Int32, _ body: (UnsafeRawBufferPointer) -> Void) throws -> Bool {
        var any = false
        while true {
            let got = try chunk.withUnsafeMutableBytes { try FileSystem.readChunk(current, into: $0, path: path) }
            if got == 0 { return any }
            var start = 0
            for index in 0..<got where chunk[index] == 0x0A {
                partial.append(contentsOf: chunk[start..<index])
                partial.withUnsafeBytes { body($0) }
                partial.removeAll(keepingCapacity: true)
                start = index + 1
                any = true
            }
            partial.append(contentsOf: chunk[start..<got])
        }
    }
}
