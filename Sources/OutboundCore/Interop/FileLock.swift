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

    private init(fd: Int32) { self.fd = fd }

    deinit { close(fd) }

    /// Locks the folder at `path` itself (no lock file) without waiting; nil while another
    /// process holds it. How orphan recovery passes and lane takeovers on one spool take turns.
    static func tryOnFolder(_ path: String) throws(SystemError) -> FileLock? {
        let fd = try systemCall("open folder lock", path: path) { open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 { return FileLock(fd: fd) }
        let code = errno
        close(fd)
        if code == EWOULDBLOCK { return nil }
        throw SystemError("lock", path: path, code: code)
    }

    /// What `probe` found at a lock file.
    enum Probe {
        /// No lock file (ENOENT, the only error that means so).
        case missing
        /// Another process holds it.
        case held
        /// Nobody holds it: now this process does, until the value is gone.
        case taken(FileLock)
    }

    /// Tries to take the lock at `path` without creating it. Any failure other than "no such
    /// file" (out of descriptors, no memory, no permission) throws: it says nothing about
    /// the owner, who may well be alive.
    static func probe(_ path: String) throws(SystemError) -> Probe {
        let fd = open(path, O_RDWR | O_CLOEXEC)
        if fd < 0 {
            let code = errno
            if code == ENOENT { return .missing }
            throw SystemError("open lock", path: path, code: code)
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            close(fd)
            if code == EWOULDBLOCK { return .held }
            throw SystemError("lock", path: path, code: code)
        }
        return .taken(FileLock(fd: fd))
    }
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
