import Glibc

/// An `flock(2)` held on a lock file for as long as this value lives (or until `release`):
/// the kernel drops it when the process dies, which is how another process sharing the spool
/// knows it may take over (https://man7.org/linux/man-pages/man2/flock.2.html).
final class ExclusiveFileLock {
    let path: String
    private var fd: Int32

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    deinit { release() }

    /// Takes the lock without waiting; nil when another process holds it. The file is created
    /// if missing. A lock won on a file its holder removed meanwhile (it is no longer the one
    /// at `path`) proves nothing and is given up: nil too.
    static func tryAcquire(_ path: String) throws -> ExclusiveFileLock? {
        let fd = try systemCall("open lock", path: path) { open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644) }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 {
            var held = stat()
            var named = stat()
            if fstat(fd, &held) == 0, stat(path, &named) == 0, held.st_ino == named.st_ino, held.st_dev == named.st_dev {
                return ExclusiveFileLock(path: path, fd: fd)
            }
            close(fd)
            return nil
        }
        let code = errno
        close(fd)
        if code == EWOULDBLOCK { return nil }
        throw SystemError("lock", path: path, code: code)
    }

    /// What the lock file holds (at most 4 KiB), read while the lock is held.
    func contents() -> String {
        var bytes = [UInt8](repeating: 0, count: 4096)
        let count = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        return count > 0 ? String(decoding: bytes.prefix(count), as: UTF8.self) : ""
    }

    /// Replaces what the lock file holds with `text` (a note for the next holder).
    func replaceContents(with text: String) throws {
        try systemCall("truncate lock", path: path) { ftruncate(fd, 0) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        if written != bytes.count { throw SystemError("write lock", path: path, code: written < 0 ? errno : EIO) }
    }

    /// Lets the lock go; with `removing`, the file goes first, while still locked (a taker
    /// that opened it before checks it is still the file at `path`, see `tryAcquire`).
    func release(removing: Bool = false) {
        guard fd >= 0 else { return }
        if removing { unlink(path) }
        close(fd)
        fd = -1
    }
}
