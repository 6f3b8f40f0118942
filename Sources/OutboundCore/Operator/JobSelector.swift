/// The bulk forms of the operator commands: every job of some folders that passes a filter
/// (`--client`, `--reason`, `--older-than`). Reads only what the filter needs: a folder
/// listing, then the file's mtime, its sidecar or its `clientId`, in that order of cost.
public struct JobFilter: Sendable {
    public var clientId: String?
    public var reason: String?
    /// Only jobs whose file was last modified at least this many seconds before `now`.
    public var olderThan: Double?
    public var now: Double

    public init(clientId: String? = nil, reason: String? = nil, olderThan: Double? = nil, now: Double) {
        self.clientId = clientId
        self.reason = reason
        self.olderThan = olderThan
        self.now = now
    }

    public var isEmpty: Bool { clientId == nil && reason == nil && olderThan == nil }

    /// Whether `job` passes; `summary` is read for the client test when not given.
    public func admits(_ job: SpoolJob, spool: Spool, stateStore: JobStateStore) -> Bool {
        if let olderThan {
            guard let modified = FileSystem.modificationTime(of: job.path), now - modified >= olderThan else { return false }
        }
        if let reason {
            guard job.folder.keepsReason, SidecarFields.read(beside: job)?.reason == reason else { return false }
        }
        if let clientId {
            guard let bytes = try? FileSystem.readSmallFile(job.path), let members = JSONMemberScanner.members(of: bytes),
                  JSONMemberScanner.string("clientId", in: members, of: bytes) == clientId else { return false }
        }
        return true
    }
}

public struct JobSelector {
    public let spool: Spool
    private let stateStore: JobStateStore

    public init(spool: Spool) {
        self.spool = spool
        stateStore = JobStateStore(spool: spool)
    }

    /// The jobs in `folders` that `filter` admits, in folder order, each folder's in listing order.
    public func select(from folders: [SpoolFolder], filter: JobFilter) -> [SpoolJob] {
        var selected: [SpoolJob] = []
        for folder in folders {
            for directory in spool.jobDirectories(of: folder) {
                guard let stream = try? DirectoryStream(directory) else { continue }
                while let name = stream.next() {
                    guard Spool.isJobName(name) else { continue }
                    let job = SpoolJob(folder: folder, name: name, directory: directory)
                    if filter.isEmpty || filter.admits(job, spool: spool, stateStore: stateStore) { selected.append(job) }
                }
            }
        }
        return selected
    }
}
