import Glibc

/// The append-only audit log file (contract section 8): whole lines written with one write(2)
/// on an O_APPEND descriptor, then one fsync. `AuditCommitter` decides when, and groups the
/// lines of many jobs into each write (group commit).
public final class AuditLog {
    public private(set) var path: String
    private var fd: Int32

    public init(path: String) throws {
        self.path = path
        self.fd = try Self.open(path)
    }

    deinit { close(fd) }

    private static func open(_ path: String) throws -> Int32 {
        try FileSystem.createDirectory(FileSystem.parentDirectory(of: path))
        let fd = try systemCall("open audit log", path: path) {
            Glibc.open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        }
        do {
            try endTornLine(fd, path: path)
        } catch {
            close(fd)
            throw error
        }
        return fd
    }

    /// A process killed in the middle of a large write can leave its last line cut short. Our
    /// first line must not be glued to that fragment, so an unterminated log gets a newline
    /// first (the fragment stays, on a line of its own: an append-only log loses nothing).
    private static func endTornLine(_ fd: Int32, path: String) throws {
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_size > 0 else { return }
        var last: UInt8 = 0
        guard pread(fd, &last, 1, info.st_size - 1) == 1, last != 0x0A else { return }
        try FileSystem.writeAll(fd, [0x0A], path: path)
    }

    /// Appends whole, already serialized lines with one write(2), then fsyncs.
    public func writeDurably(_ lines: [UInt8]) throws {
        try FileSystem.writeAll(fd, lines, path: path)
        try systemCall("fsync", path: path) { fsync(fd) }
    }

    /// Opens the log again, at `newPath` if given (after logrotate moved the old file, or
    /// when a reload changed `auditLog`). The old descriptor stays in use if this fails.
    public func reopen(at newPath: String? = nil) throws {
        let target = newPath ?? path
        let newFD = try Self.open(target)
        close(fd)
        fd = newFD
        path = target
    }
}
