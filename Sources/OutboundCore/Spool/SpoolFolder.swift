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

    /// Jobs are `*.json` files whose name does not start with a dot.
    public static func isJobName(_ name: String) -> Bool {
        name.hasSuffix(".json") && !name.hasPrefix(".") && name.utf8.count > 5
    }
}
