/// What operator commands show and filter on, read cheaply from a job's files: the `id` and
/// `clientId` members of the job file (found by `JSONMemberScanner`, the body never turned into
/// a string), its size and age, the retry state and the `.reason` sidecar.
public struct JobSummary: Sendable {
    public let job: SpoolJob
    /// The job's id: its `id` member, else its file name's stem; nil when the file does not
    /// read as a JSON object.
    public var id: String?
    public var clientId: String?
    public var bytes: Int?
    /// The file's modification time, which renames keep (`find -mtime`).
    public var modified: Double?
    public var state: JobState?
    public var sidecar: SidecarFields?

    /// Attempts made: from the retry state, else the sidecar.
    public var attempts: Int? { state?.attempts ?? sidecar?.attempts }

    /// Reads what there is; a file that vanished meanwhile gives a summary with nothing known.
    /// `readsState: false` skips the retry state (for an audit line, which does not show it).
    public static func read(_ job: SpoolJob, spool: Spool, stateStore: JobStateStore, limit: Int = 16 << 20,
                            readsState: Bool = true) -> JobSummary {
        var summary = JobSummary(job: job)
        if case .contents(let bytes, let modified, let inode)? = try? FileSystem.readRegularFile(job.path, limit: limit) {
            summary.bytes = bytes.count
            summary.modified = modified
            if let members = JSONMemberScanner.members(of: bytes) {
                summary.id = JSONMemberScanner.string("id", in: members, of: bytes) ?? SpoolMover.originalStem(of: job.name)
                summary.clientId = JSONMemberScanner.string("clientId", in: members, of: bytes)
            }
            if readsState, job.folder == .deferred || job.folder == .hold || job.folder == .incoming || job.folder == .active {
                summary.state = stateStore.load(job.name, inode: inode)
            }
        } else {
            summary.modified = FileSystem.modificationTime(of: job.path)
        }
        if job.folder.keepsReason { summary.sidecar = SidecarFields.read(beside: job) }
        return summary
    }

    init(job: SpoolJob) {
        self.job = job
    }
}

/// A `.reason` sidecar as read back: the fields the contract names, each optional (an operator
/// may have edited it), and its raw text for `show`.
public struct SidecarFields: Sendable {
    public var reason: String?
    public var message: String?
    public var at: String?
    public var attempts: Int?
    public var status: Int?
    public var error: String?
    public var raw: [UInt8]

    public static func read(beside job: SpoolJob) -> SidecarFields? {
        guard let bytes = try? FileSystem.readSmallFile("\(job.path).reason", limit: 65536) else { return nil }
        var fields = SidecarFields(raw: bytes)
        guard case .object(let members)? = try? JSONParser.parse(bytes) else { return fields }
        for (key, value) in members {
            switch (key, value) {
            case ("reason", .string(let text)): fields.reason = text
            case ("message", .string(let text)): fields.message = text
            case ("at", .string(let text)): fields.at = text
            case ("attempts", _): fields.attempts = value.integerValue
            case ("status", _): fields.status = value.integerValue
            case ("error", .string(let text)): fields.error = text
            default: break
            }
        }
        return fields
    }
}
