import Glibc

/// A failed system call: which operation, on which path, and the errno it returned.
/// The message is written for the operator: "can't rename 'a' to 'b': No such file or directory".
public struct SystemError: Error, Sendable, CustomStringConvertible {
    public let operation: String
    public let path: String
    public let code: Int32

    public init(_ operation: String, path: String, code: Int32 = errno) {
        self.operation = operation
        self.path = path
        self.code = code
    }

    public var description: String {
        "can't \(operation) '\(path)': \(String(cString: strerror(code)))"
    }

    public var isNotFound: Bool { code == ENOENT }
    public var isAlreadyExists: Bool { code == EEXIST }
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
