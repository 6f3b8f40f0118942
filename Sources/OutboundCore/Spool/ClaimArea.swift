import Glibc

/// This process's claims: its own subfolder of `active/`, proven alive by an `flock` held on
/// `.lock` inside it for as long as the process lives.
///
/// The jobs themselves sit in sixteen bucket folders inside it, `0` to `f`, chosen by a hash
/// of the file name. Every claim, read and filing looks a name up in its folder, and ext4
/// looks through a folder block entry by entry: sixteen folders of a dozen claims cost far
/// less than one of a few hundred.
///
/// A claim is a rename into this folder, so exactly one process wins each job. When the
/// process dies the kernel drops the lock, and any other process sharing the spool can tell
/// the folder is orphaned (its lock can be taken) and put the jobs back. The folder is built
/// under a dot-name and renamed into place only once locked, so nobody ever sees it unlocked
/// while its owner lives.
public final class ClaimArea {
    public let spool: Spool
    public let name: String
    public let path: String
    /// The bucket folders, held open: claims, reads and filing go by descriptor and name.
    private let buckets: [DirectoryHandle]
    static let bucketCount = 16
    let folders: SpoolHandles
    /// Held while this process lives: recovery leaves a folder whose lock is held alone.
    private let lock: FileLock

    public init(spool: Spool, folders: SpoolHandles) throws {
        self.spool = spool
        self.folders = folders
        let hostName = HostName.current.filter { $0.isLetter || $0.isNumber || $0 == "-" }
        name = "\(hostName.isEmpty ? "host" : hostName)-\(getpid())-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
        let building = spool.path(.active, ".new-\(name)")
        path = spool.path(.active, name)
        try FileSystem.createDirectory(building)
        for bucket in 0..<Self.bucketCount { try FileSystem.createDirectory("\(building)/\(Self.bucketName(bucket))") }
        lock = try FileLock(creating: "\(building)/.lock")
        try FileSystem.rename(building, to: path)
        let path = path
        buckets = try (0..<Self.bucketCount).map { try DirectoryHandle("\(path)/\(Self.bucketName($0))") }
    }

    public func path(of job: String) -> String { "\(path)/\(Self.bucketName(Self.bucket(of: job)))/\(job)" }

    /// Whether the claim named `job` is here (a job on its way out is, until its move).
    public func holds(_ job: String) -> Bool { FileSystem.identity(atPath: path(of: job)) != nil }

    /// The open folder that holds (or will hold) the claim named `job`.
    public func folder(for job: String) -> DirectoryHandle { buckets[Self.bucket(of: job)] }

    /// FNV-1a over the name's bytes: the same name always lands in the same bucket.
    static func bucket(of job: String) -> Int {
        var hash: UInt32 = 2_166_136_261
        var name = job
        // Over the contiguous bytes: stepping through a String's UTF8View costs several times more.
        name.withUTF8 { bytes in
            for byte in bytes { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        }
        return Int(hash % UInt32(bucketCount))
    }

    static func bucketName(_ bucket: Int) -> String { String(bucket, radix: 16) }

    /// The folders of the claim folder at `path` that may hold jobs: the folder itself (claims
    /// of older versions sat there) and its subfolders, the buckets. Hidden entries and files
    /// are skipped. For the claim folders of any process, this one's or another's.
    static func jobFolders(in path: String) throws -> [String] {
        var folders = [path]
        for entry in try DirectoryStream.names(in: path) where !entry.hasPrefix(".") {
            let subfolder = "\(path)/\(entry)"
            if FileSystem.kind(of: subfolder) == .directory { folders.append(subfolder) }
        }
        return folders
    }

    /// Moves the claim `name` out to `folder` as `preferred` (default: its own name), never
    /// replacing: a clash gets a `~N` name. Returns the name it has there.
    public func moveOut(_ name: String, to folder: SpoolFolder, as preferred: String? = nil) throws -> String {
        try SpoolMover.move(path(of: name), named: preferred ?? name, into: spool.path(folder))
    }

    /// What became of a claim.
    public enum ClaimOutcome: Sendable, Equatable {
        case claimed
        /// Another process got it first, or it is gone.
        case gone
        /// A job of the same name is claimed already (one from `incoming/` and one from
        /// `deferred/`, say): this one stays where it is and is claimed later. A claim never
        /// replaces a file.
        case nameInUse
    }

    /// Claims `name` from `folder` by one rename that never replaces.
    public func claim(_ name: String, from folder: SpoolFolder) throws -> ClaimOutcome {
        do {
            try folders[folder].move(name, to: self.folder(for: name), as: name)
            return .claimed
        } catch let error as SystemError where error.isNotFound {
            return .gone
        } catch let error as SystemError where error.isAlreadyExists {
            return .nameInUse
        }
    }

    /// Removes the folder at a clean stop, once every claim has been put back or finished.
    /// Claims left behind (none, normally) keep the folder; the next recovery pass takes them.
    public func dissolve() {
        let bucketPaths = (0..<Self.bucketCount).map { "\(path)/\(Self.bucketName($0))" }
        for bucket in bucketPaths where !((try? DirectoryStream.names(in: bucket)) ?? []).isEmpty { return }
        let names = (try? DirectoryStream.names(in: path)) ?? []
        guard names.allSatisfy({ $0 == ".lock" || bucketPaths.contains("\(path)/\($0)") }) else { return }
        for bucket in bucketPaths { try? FileSystem.removeDirectory(bucket) }
        try? FileSystem.remove("\(path)/.lock")
        try? FileSystem.removeDirectory(path)
    }
}
