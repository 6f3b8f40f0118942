import Glibc

/// What fstat(2) or stat(2) says about a file that the audit log's chain cares about: which
/// file it is (a rename keeps the inode, logrotate's new file has a fresh one) and how long.
public struct FileIdentity: Sendable, Equatable {
    public let inode: UInt64
    public let size: Int
    public let isRegular: Bool
}

/// The descriptor-level calls the audit log needs (flock, fstat, pread, pwrite, ftruncate),
/// each wrapped once: callers get Swift values and `SystemError`s that name the path.
/// https://man7.org/linux/man-pages/man2/flock.2.html
/// https://man7.org/linux/man-pages/man2/pread.2.html
extension FileSystem {
    /// Opens `path` for reading and writing, creating it (mode 0640) when missing.
    public static func openForUpdate(_ path: String, appending: Bool) throws -> Int32 {
        try systemCall("open", path: path) {
            open(path, O_RDWR | O_CREAT | O_CLOEXEC | (appending ? O_APPEND : 0), 0o640)
        }
    }

    /// Opens `path` read-only; nil when it does not exist.
    public static func openForReading(_ path: String) throws -> Int32? {
        while true {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            if fd >= 0 { return fd }
            let code = errno
            if code == EINTR { continue }
            if code == ENOENT { return nil }
            throw SystemError("open", path: path, code: code)
        }
    }

    public static func closeDescriptor(_ fd: Int32) {
        close(fd)
    }

    /// flock(2): waits for the lock, exclusive or shared. Released by `unlock` or by closing.
    public static func lockFile(_ fd: Int32, exclusive: Bool = true, path: String) throws {
        try systemCall(exclusive ? "lock (flock LOCK_EX)" : "lock (flock LOCK_SH)", path: path) {
            flock(fd, exclusive ? LOCK_EX : LOCK_SH)
        }
    }

    public static func unlockFile(_ fd: Int32, path: String) {
        _ = flock(fd, LOCK_UN)
    }

    /// fstat(2) of an open file.
    public static func identity(of fd: Int32, path: String) throws -> FileIdentity {
        var info = stat()
        try systemCall("stat", path: path) { fstat(fd, &info) }
        return FileIdentity(info)
    }

    /// stat(2) of a path (following symlinks, as open does); nil when nothing is there.
    public static func identity(atPath path: String) -> FileIdentity? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return FileIdentity(info)
    }

    /// pread(2) of up to `count` bytes at `offset`; fewer at end of file.
    public static func readBytes(_ fd: Int32, count: Int, at offset: Int, path: String) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = try systemCall("read", path: path) {
                buffer.withUnsafeMutableBytes { raw in pread(fd, raw.baseAddress! + filled, count - filled, off_t(offset + filled)) }
            }
            if got == 0 { break }
            filled += got
        }
        buffer.removeSubrange(filled...)
        return buffer
    }

    /// pwrite(2) of every byte at `offset`.
    public static func writeBytes(_ fd: Int32, _ bytes: [UInt8], at offset: Int, path: String) throws {
        var written = 0
        while written < bytes.count {
            written += try systemCall("write", path: path) {
                bytes.withUnsafeBytes { raw in pwrite(fd, raw.baseAddress! + written, raw.count - written, off_t(offset + written)) }
            }
        }
    }

    /// ftruncate(2).
    public static func truncateFile(_ fd: Int32, to length: Int, path: String) throws {
        try systemCall("truncate", path: path) { ftruncate(fd, off_t(length)) }
    }

    /// fsync(2).
    public static func syncFile(_ fd: Int32, path: String) throws {
        try systemCall("fsync", path: path) { fsync(fd) }
    }

    /// read(2) into `buffer` from the current position: the count read, 0 at end of file.
    public static func readChunk(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, path: String) throws -> Int {
        try systemCall("read", path: path) { Glibc.read(fd, buffer.baseAddress, buffer.count) }
    }
}

extension FileIdentity {
    init(_ info: stat) {
        inode = UInt64(info.st_ino)
        size = Int(info.st_size)
        isRegular = info.st_mode & S_IFMT == S_IFREG
    }
}

extension FileSystem {
    /// poll(2) for one descriptor: true when it is readable within `timeoutMs`.
    /// https://man7.org/linux/man-pages/man2/poll.2.html
    public static func waitReadable(_ fd: Int32, timeoutMs: Int32) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, timeoutMs) > 0 && entry.revents & Int16(POLLIN) != 0
    }

    /// lseek(2) to the end: the offset, which is where a follower starts.
    public static func seekToEnd(_ fd: Int32, path: String) throws -> Int {
        Int(try systemCall("seek", path: path) { lseek(fd, 0, SEEK_END) })
    }
}

extension FileSystem {
    /// Writes bytes to standard output at once, bypassing stdio's buffer.
    public static func writeStandardOutput(_ bytes: [UInt8]) {
        try? writeAll(1, bytes, path: "standard output")
    }
}
