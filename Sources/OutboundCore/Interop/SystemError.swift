import Glibc

/// A failed system call: which operation, on which path, and the errno it returned.
/// The message is written for the operator: "can't rename 'a' to 'b': No such file or directory".
/// `syscall` and `errno` let callers decide by type (`isTransient`) and audit lines name the
/// failure without a path ("rename: ENOSPC").
public struct SystemError: Error, Sendable, CustomStringConvertible {
    public let operation: String
    public let path: String
    public let code: Int32

    public init(_ operation: String, path: String, code: Int32 = Glibc.errno) {
        self.operation = operation
        self.path = path
        self.code = code
    }

    /// `error` itself when a system call raised it; otherwise `fallback`. The spool code catches
    /// any `Error`, but only its system calls throw: the fallback names the call, with `EIO`.
    public init(_ error: Error, otherwise fallback: @autoclosure () -> SystemError) {
        self = error as? SystemError ?? fallback()
    }

    /// `error` itself when a system call raised it; otherwise an `EIO` error of `operation` on
    /// `path`.
    public init(_ error: Error, otherwise operation: String, path: String) {
        self.init(error, otherwise: SystemError(operation, path: path, code: EIO))
    }

    public var errno: Errno { Errno(rawValue: code) }

    public var description: String {
        "can't \(operation) '\(path)': \(String(cString: strerror(code)))"
    }

    public var isNotFound: Bool { code == ENOENT }
    public var isAlreadyExists: Bool { code == EEXIST }
    /// Worth trying again later (see `Errno.isTransient`): never a verdict on a job.
    public var isTransient: Bool { errno.isTransient }

    /// The system call behind `operation`, for audit lines: "rename", "open", "fsync", ...
    public var syscall: String {
        let words = operation.split(separator: " ")
        switch words.first.map(String.init) ?? operation {
        case "create": return words.count > 1 && words[1] == "folder" ? "mkdir" : "open"
        case "lock": return "flock"
        case "remove": return words.count > 1 && words[1] == "folder" ? "rmdir" : "unlink"
        case "stat", "find": return "stat"
        case "list": return "readdir"
        case let first: return first
        }
    }

    /// "rename: ENOSPC (No space left on device)": what an audit line says, no path.
    public var brief: String { "\(syscall): \(errno)" }
}

/// Runs a system call, retrying on EINTR; returns its value or throws `SystemError`.
/// Every syscall in the project goes through here or a wrapper built on it.
@discardableResult
func systemCall<T: FixedWidthInteger>(_ operation: String, path: String, _ body: () -> T) throws(SystemError) -> T {
    while true {
        let result = body()
        if result >= 0 { return result }
        let code = errno
        if code == EINTR { continue }
        throw SystemError(operation, path: path, code: code)
    }
}
