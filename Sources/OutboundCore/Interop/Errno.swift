import Glibc

/// An errno value as a type, so callers decide by what an error means (is it worth trying
/// again?) rather than by comparing numbers (swift-system's `Errno`).
public struct Errno: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32

    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// Errors that say "not now" rather than "never": out of descriptors, memory or space, a
    /// device that failed this once, a resource busy for the moment. A job that met one of
    /// these is tried again later; it never gets a permanent verdict from it.
    public var isTransient: Bool { Self.transient.contains(rawValue) }

    private static let transient: Set<Int32> = [EMFILE, ENFILE, ENOMEM, EIO, ENOSPC, EAGAIN, EDQUOT, EINTR, EBUSY, ETIMEDOUT]

    /// The symbolic name ("ENOSPC"), for audit lines and scripts; "errno N" for the rare others.
    public var name: String { Self.names[rawValue] ?? "errno \(rawValue)" }

    /// The C library's text ("No space left on device").
    public var message: String { String(cString: strerror(rawValue)) }

    public var description: String { "\(name) (\(message))" }

    private static let names: [Int32: String] = [
        EPERM: "EPERM", ENOENT: "ENOENT", EINTR: "EINTR", EIO: "EIO", EBADF: "EBADF", EAGAIN: "EAGAIN",
        ENOMEM: "ENOMEM", EACCES: "EACCES", EBUSY: "EBUSY", EEXIST: "EEXIST", EXDEV: "EXDEV", ENOTDIR: "ENOTDIR",
        EISDIR: "EISDIR", EINVAL: "EINVAL", ENFILE: "ENFILE", EMFILE: "EMFILE", EFBIG: "EFBIG", ENOSPC: "ENOSPC",
        EROFS: "EROFS", EMLINK: "EMLINK", ENAMETOOLONG: "ENAMETOOLONG", ENOTEMPTY: "ENOTEMPTY", ELOOP: "ELOOP",
        EDQUOT: "EDQUOT", ETIMEDOUT: "ETIMEDOUT", ESTALE: "ESTALE",
    ]
}
