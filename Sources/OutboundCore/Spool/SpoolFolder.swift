/// The spool's folders (contract section 2), named as on disk.
public enum SpoolFolder: String, Sendable, CaseIterable {
    case tmp, incoming, active, deferred, hold, delivered, failed, refused, corrupt

    /// Folders whose jobs are finished and carry a `.reason` sidecar.
    public var keepsReason: Bool { self == .failed || self == .refused || self == .corrupt }
}

/// Paths inside one spool root, and the rule for which names are jobs.
public struct Spool: Sendable {
    public let root: String
    /// Per-job retry state (attempts, first claim, next attempt), keyed by file name.
    public var stateDirectory: String { "\(root)/.state" }

    public init(root: String) {
        self.root = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
    }

    public func path(_ folder: SpoolFolder) -> String { "\(root)/\(folder.rawValue)" }
    public func path(_ folder: SpoolFolder, _ name: String) -> String { "\(root)/\(folder.rawValue)/\(name)" }

    /// Creates every missing folder.
    public func prepare() throws {
        for folder in SpoolFolder.allCases { try FileSystem.createDirectory(path(folder)) }
        try FileSystem.createDirectory(stateDirectory)
    }

    /// Jobs are `*.json` files whose name does not start with a dot. Judged on bytes, as a
    /// shell's `*.json` would: a String suffix test works on whole characters, and a name
    /// whose last character before `.json` joins with the dot would not count.
    public static func isJobName(_ name: String) -> Bool {
        let utf8 = name.utf8
        return utf8.count > 5 && utf8.first != UInt8(ascii: ".") && utf8.reversed().starts(with: "nosj.".utf8)
    }
}

/// The spool's folders held open for the life of a dispatcher, so moves between them go by
/// descriptor and name (`DirectoryHandle`). Opened after `Spool.prepare`.
public final class SpoolHandles: Sendable {
    private let handles: [DirectoryHandle]

    /// Taken around each batch of renames. Renames between folders hold the file system's
    /// own rename lock, and a second thread renaming at the same moment spins in the kernel
    /// until the first is done: burnt CPU on a two-core machine. Taking turns per batch here
    /// makes the waiting thread sleep instead, and leaves the core to the loop and the
    /// receiver. Only a matter of speed: a rename made without it is just as correct.
    ///
    /// A pthread mutex, not `Synchronization.Mutex`: on Linux the latter is a priority-
    /// inheritance futex whose waiter spins in the kernel (`rt_mutex_slowlock_block`) while
    /// the holder runs, the very spinning this lock is here to avoid. Tried (issue 12): the
    /// intake thread spent that spin on every batch, and a 10,000-job drain took about
    /// 0.08 s more CPU.
    public let renameLock = ThreadLock()

    public init(spool: Spool) throws {
        handles = try Self.order.map { try DirectoryHandle(spool.path($0)) }
    }

    public subscript(folder: SpoolFolder) -> DirectoryHandle {
        handles[Self.order.firstIndex(of: folder)!]
    }

    /// `allCases` once: the subscript runs for every claim and filing.
    private static let order = SpoolFolder.allCases
}
