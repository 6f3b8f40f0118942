import COutbound
import Dispatch
import Glibc

/// What `lstat(2)` says a directory entry is. Jobs must be regular files; anything else in
/// `incoming/` is set aside unread.
public enum FileKind: Sendable, Equatable {
    case regular
    case directory
    case symbolicLink
    case other
    case missing
}

/// The project's file system calls, each wrapped once (swift-system's habit): callers get
/// Swift values and `SystemError`s that name the path, never `errno` or `-1`.
public enum FileSystem {
    /// Creates `path` and any missing parents (`mkdir -p`).
    public static func createDirectory(_ path: String, mode: mode_t = 0o755) throws {
        if mkdir(path, mode) == 0 { return }
        let code = errno
        if code == EEXIST {
            guard kind(of: path) == .directory else { throw SystemError("create folder", path: path, code: ENOTDIR) }
            return
        }
        if code == ENOENT {
            let parent = parentDirectory(of: path)
            if parent != path, !parent.isEmpty {
                try createDirectory(parent, mode: mode)
                if mkdir(path, mode) == 0 || errno == EEXIST { return }
            }
        }
        throw SystemError("create folder", path: path, code: code)
    }

    public static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    public static func kind(of path: String) -> FileKind {
        var info = stat()
        guard lstat(path, &info) == 0 else { return .missing }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .regular
        case S_IFDIR: return .directory
        case S_IFLNK: return .symbolicLink
        default: return .other
        }
    }

    /// Seconds since the epoch of the last modification, or nil when the file is gone.
    public static func modificationTime(of path: String) -> Double? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
    }

    /// A folder's or file's modification stamp as the kernel keeps it (seconds, nanoseconds),
    /// and how long ago that was by the coarse clock the kernel stamps files with (so that a
    /// change made a moment ago never looks older than it is); nil when it cannot be looked at.
    static func modificationStamp(of path: String) -> (stamp: (Int, Int), age: Double)? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME_COARSE, &now)
        let age = Double(now.tv_sec - info.st_mtim.tv_sec) + Double(now.tv_nsec - info.st_mtim.tv_nsec) / 1e9
        return ((info.st_mtim.tv_sec, info.st_mtim.tv_nsec), age)
    }

    /// The inode number, which a rename keeps: it ties saved job state to one file.
    public static func inode(of path: String) -> UInt64? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return UInt64(info.st_ino)
    }

    /// A file's size without following a symlink; nil when it cannot be looked at.
    public static func size(of path: String) -> Int? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return Int(info.st_size)
    }

    /// rename(2): atomic within one file system, replacing nothing only if asked.
    public static func rename(_ from: String, to: String, replacing: Bool = true) throws {
        try systemCall("rename '\(from)' to", path: to) {
            replacing ? Glibc.rename(from, to) : outbound_rename_noreplace(from, to)
        }
    }

    public static func remove(_ path: String) throws {
        try systemCall("remove", path: path) { unlink(path) }
    }

    /// Removes many files, four at a time, ignoring failures (a file already gone is fine).
    /// On ext4 an unlink waits on the journal for most of its time, and unlinks from several
    /// threads share its commits: 100,000 sidecars go about 1.5 times faster than one by one.
    static func removeConcurrently(_ paths: [String]) {
        let lanes = min(4, paths.count)
        guard lanes > 1 else {
            for path in paths { unlink(path) }
            return
        }
        DispatchQueue.concurrentPerform(iterations: lanes) { lane in
            for index in stride(from: lane, to: paths.count, by: lanes) { unlink(paths[index]) }
        }
    }

    public static func removeDirectory(_ path: String) throws {
        try systemCall("remove folder", path: path) { rmdir(path) }
    }

    /// Flushes a folder's entries to disk, so renames into it survive a power cut.
    public static func syncDirectory(_ path: String) throws {
        let fd = try systemCall("open folder", path: path) { open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        defer { close(fd) }
        try systemCall("fsync folder", path: path) { fsync(fd) }
    }

    /// The outcome of reading a job file.
    public enum ReadResult: Sendable {
        case contents([UInt8], modified: Double, inode: UInt64)
        case tooLarge(size: Int, modified: Double)
        case notRegularFile
        /// The caller's `admit` said no to a file of this size: nothing was read.
        case notAdmitted(size: Int)
    }

    /// Reads a whole regular file with one open and (usually) one read, without following a
    /// symlink and without reading more than `limit` bytes.
    public static func readRegularFile(_ path: String, limit: Int) throws -> ReadResult {
        try readRegularFile(path: path, limit: limit) { open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK) }
    }

    /// The same, with the file opened by `openFile` (which must not follow a symlink and must
    /// not block); `path` names it in errors and is only built for one.
    /// `admit` is asked with the file's size before its bytes are read (the byte budget).
    static func readRegularFile(path: @autoclosure () -> String, limit: Int, admit: (Int) -> Bool = { _ in true },
                                openFile: () -> Int32) throws -> ReadResult {
        var fd: Int32
        repeat { fd = openFile() } while fd < 0 && errno == EINTR
        if fd < 0 {
            let code = errno
            if code == ELOOP { return .notRegularFile }
            throw SystemError("open", path: path(), code: code)
        }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) != 0 {
            let code = errno
            throw SystemError("stat", path: path(), code: code)
        }
        guard info.st_mode & S_IFMT == S_IFREG else { return .notRegularFile }
        let modified = Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
        let size = Int(info.st_size)
        if size > limit { return .tooLarge(size: size, modified: modified) }
        guard admit(size) else { return .notAdmitted(size: size) }
        // Read to end of file rather than trusting st_size: a writer may still be appending.
        var buffer = [UInt8](repeating: 0, count: size + 1)
        var filled = 0
        while true {
            if filled == buffer.count {
                if buffer.count > limit { return .tooLarge(size: buffer.count, modified: modified) }
                buffer.append(contentsOf: repeatElement(0, count: max(4096, buffer.count)))
            }
            let got = buffer.withUnsafeMutableBytes { raw in
                read(fd, raw.baseAddress! + filled, raw.count - filled)
            }
            if got < 0 {
                let code = errno
                if code == EINTR { continue }
                throw SystemError("read", path: path(), code: code)
            }
            if got == 0 { break }
            filled += got
            // A short read of a regular file means end of file: no second read to learn it.
            if filled < buffer.count { break }
        }
        if filled > limit { return .tooLarge(size: filled, modified: modified) }
        buffer.removeSubrange(filled...)
        return .contents(buffer, modified: modified, inode: UInt64(info.st_ino))
    }

    /// Reads a whole regular file, following symlinks (configuration files are the
    /// administrator's, often installed as links; job files never are followed).
    public static func readFollowingLinks(_ path: String, limit: Int) throws -> ReadResult {
        try readRegularFile(path: path, limit: limit) { open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK) }
    }

    /// Whether `path` (followed if a link) is a folder.
    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
    }

    /// Whether `path` is a symlink whose target does not exist.
    public static func isDanglingLink(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFLNK && stat(path, &info) != 0
    }

    /// Reads a small file whole (configuration, state); nil when it does not exist.
    public static func readSmallFile(_ path: String, limit: Int = 16 << 20) throws -> [UInt8]? {
        do {
            switch try readRegularFile(path, limit: limit) {
            case .contents(let bytes, _, _): return bytes
            case .tooLarge: throw SystemError("read", path: path, code: EFBIG)
            case .notRegularFile: throw SystemError("read", path: path, code: EINVAL)
            case .notAdmitted: preconditionFailure("no admit check was asked for")
            }
        } catch let error as SystemError where error.isNotFound {
            return nil
        }
    }

    /// How `writeAtomically` names its temporary files (`.tmp-PID-N`), beside the target.
    public static let temporaryPrefix = ".tmp-"

    /// Writes `bytes` to `path` durably and atomically: a new temporary file beside it
    /// (O_EXCL), write, fsync, rename over `path`. The folder itself is not synced here, so
    /// callers can sync it once for a batch. A process killed in between leaves the temporary
    /// file (`StaleTemporaryFiles`).
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let temporary = try writeTemporary(bytes, beside: path)
        do {
            try rename(temporary, to: path)
        } catch {
            unlink(temporary)
            throw error
        }
    }

    /// The same, but a file already at `path` is replaced only when `mayReplace` says so (asked
    /// only then): otherwise nothing changes and the error is EEXIST. The new file takes the
    /// name with a no-replace rename, so of two writers that both found the name free, one
    /// gets EEXIST instead of overwriting the other's file.
    public static func writeAtomically(_ bytes: [UInt8], to path: String, replacingOnlyIf mayReplace: () throws -> Bool) throws {
        let temporary = try writeTemporary(bytes, beside: path)
        do {
            do {
                try rename(temporary, to: path, replacing: false)
            } catch let error as SystemError where error.isAlreadyExists {
                guard try mayReplace() else { throw error }
                try rename(temporary, to: path)
            }
        } catch {
            unlink(temporary)
            throw error
        }
    }

    /// A new temporary file beside `path` holding `bytes`, fsynced; its path.
    private static func writeTemporary(_ bytes: [UInt8], beside path: String) throws -> String {
        let temporary = "\(parentDirectory(of: path))/\(temporaryPrefix)\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = try systemCall("create", path: temporary) {
            open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        }
        // The descriptor is closed exactly once, whatever fails: a second close could close a
        // descriptor another thread has just been given. After a failed fsync it is not used
        // again (the data may be gone, Rebello et al., ATC'20): the caller writes afresh.
        do {
            defer { close(fd) }
            try writeAll(fd, bytes, path: temporary)
            try systemCall("fsync", path: temporary) { fsync(fd) }
        } catch {
            unlink(temporary)
            throw error
        }
        return temporary
    }

    /// write(2) until every byte is out.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
        var written = 0
        while written < bytes.count {
            let count = try systemCall("write", path: path) {
                bytes.withUnsafeBytes { raw in write(fd, raw.baseAddress! + written, raw.count - written) }
            }
            written += count
        }
    }
}

extension FileSystem {
    /// access(2) with R_OK.
    public static func isReadable(_ path: String) -> Bool {
        access(path, R_OK) == 0
    }
}

extension FileSystem {
    /// Writes a message to standard error, unbuffered.
    public static func writeStandardError(_ message: String) {
        try? writeAll(2, Array(message.utf8), path: "standard error")
    }
}

extension FileSystem {
    /// Creates `path` (it must not exist: O_EXCL), writes `bytes` and fsyncs it: a job file
    /// in `tmp/` before its rename into `incoming/`. A file left half-written is removed.
    public static func writeNewFile(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws {
        let fd = try systemCall("create", path: path) { open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode) }
        do {
            try writeAll(fd, bytes, path: path)
            try systemCall("fsync", path: path) { fsync(fd) }
            try systemCall("close", path: path) { close(fd) }
        } catch {
            close(fd)
            unlink(path)
            throw error
        }
    }

    /// Reads everything from standard input (`enqueue -`), up to `limit` bytes; nil when more.
    public static func readStandardInput(limit: Int) throws -> [UInt8]? {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let got = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress!, $0.count) }
            if got < 0 {
                if errno == EINTR { continue }
                throw SystemError("read", path: "standard input")
            }
            if got == 0 { return bytes }
            bytes.append(contentsOf: chunk[..<got])
            if bytes.count > limit { return nil }
        }
    }
}
