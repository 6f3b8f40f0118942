import Glibc

/// An exclusive `flock` on a file, held until this value is gone: how a process marks its
/// claim folder as alive (the kernel releases the lock when the process dies, however it
/// dies). Owns its descriptor and closes it exactly once.
/// https://man7.org/linux/man-pages/man2/flock.2.html
final class FileLock {
    private let fd: Int32

    /// Creates `path` if missing and locks it without waiting; throws if it cannot be opened
    /// or another process holds the lock.
    init(creating path: String) throws(SystemError) {
        let fd = try systemCall("create lock", path: path) { open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644) }
        do {
            try systemCall("lock", path: path) { flock(fd, LOCK_EX | LOCK_NB) }
        } catch {
            close(fd)
            throw error
        }
        self.fd = fd
    }

    deinit { close(fd) }
}

/// The machine's host name, as `gethostname(2)` gives it (empty when it cannot).
enum HostName {
    static var current: String {
        var host = [UInt8](repeating: 0, count: 256)
        host.withUnsafeMutableBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { _ = gethostname($0.baseAddress!, $0.count - 1) }
        }
        return String(decoding: host.prefix { $0 != 0 }, as: UTF8.self)
    }
}
