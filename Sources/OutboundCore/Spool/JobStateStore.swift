import Glibc

/// What survives between attempts: how many were made, when the job was first claimed (for
/// `maxAgeSeconds`) and when the next is due. Kept in `.state/NAME`, beside the spool's
/// folders, so the job file itself never changes and moves with a single rename.
public struct JobState: Sendable, Equatable {
    public var attempts: Int
    public var firstClaimedAt: Double
    public var nextAttemptAt: Double
    /// The job file's inode: a state file only applies to the file it was written for, not to a
    /// later, different job that reuses the name.
    public var inode: UInt64
    /// The ordered lane of the job (contract 14): a retry in deferred/ holds its lane, also
    /// for a process that takes the lane over after its owner died.
    public var lane: LaneKey?

    public init(attempts: Int, firstClaimedAt: Double, nextAttemptAt: Double, inode: UInt64, lane: LaneKey? = nil) {
        self.lane = lane
        self.attempts = attempts
        self.firstClaimedAt = firstClaimedAt
        self.nextAttemptAt = nextAttemptAt
        self.inode = inode
    }
}

/// Reads and writes `JobState` files.
public struct JobStateStore: Sendable {
    public let directory: String

    public init(spool: Spool) {
        directory = spool.stateDirectory
    }

    /// A listing of the state folder, so the common question "does this new job have saved
    /// state?" costs no failed open per job.
    public func makeIndex() -> JobStateIndex {
        JobStateIndex(directory: directory)
    }

    private func path(_ name: String) -> String { "\(directory)/\(name)" }

    /// The state saved for `name`, if it was saved for this very file (same inode); nil when
    /// there is none, or what is there is not a state file. Throws when it cannot be read
    /// (out of descriptors, an I/O error): a job whose attempts cannot be known must not
    /// start again from attempt 1.
    public func load(_ name: String, inode: UInt64?) throws(SystemError) -> JobState? {
        let bytes: [UInt8]
        do {
            guard let read = try FileSystem.readSmallFile(path(name), limit: 4096) else { return nil }
            bytes = read
        } catch let error as SystemError {
            // Transient (EIO, EMFILE, ENOMEM...) or a permission an administrator can fix:
            // the state is there but unknown now. EFBIG and EINVAL (too large, not a regular
            // file) and the like: what is there is not a state file.
            if error.isTransient || error.code == EACCES || error.code == EPERM { throw error }
            return nil
        } catch {
            return nil
        }
        guard case .object(let members)? = try? JSONParser.parse(bytes) else { return nil }
        var fields: [String: JSONValue] = [:]
        for member in members { fields[member.key] = member.value }
        guard let attempts = fields["attempts"]?.integerValue,
              case .string(let first)? = fields["firstClaimedAt"], let firstClaimedAt = Timestamp.parse(first),
              case .string(let next)? = fields["nextAttemptAt"], let nextAttemptAt = Timestamp.parse(next),
              case .number(let inodeText)? = fields["inode"], let savedInode = UInt64(inodeText) else { return nil }
        if let inode, inode != savedInode { return nil }
        var lane: LaneKey?
        if case .string(let client)? = fields["laneClientId"], case .string(let key)? = fields["laneOrderingKey"] {
            lane = LaneKey(clientId: client, orderingKey: key)
        }
        return JobState(attempts: attempts, firstClaimedAt: firstClaimedAt, nextAttemptAt: nextAttemptAt, inode: savedInode, lane: lane)
    }

    /// Whether `name`'s state file is another file's (another inode): a job set aside must not
    /// take that name, or it would overwrite a namesake's attempts (one in hold/, say, or one
    /// another process is setting aside). Throws when it cannot be read now.
    public func isTakenByAnotherFile(_ name: String, inode: UInt64) throws(SystemError) -> Bool {
        guard let state = try load(name, inode: nil) else { return false }
        return state.inode != inode
    }

    /// A name for the file with `inode` (the job's own name, else `stem~N.json`) that is free
    /// in `folder` (`SpoolMover.freeName`) and has no other file's state in `.state/`: a job
    /// whose state goes with it never takes a namesake's.
    public func freeName(for name: String, in folder: String, forFileWithInode inode: UInt64) throws -> String {
        try SpoolMover.freeName(for: name, in: folder) { try !isTakenByAnotherFile($0, inode: inode) }
    }

    /// Saves durably (the file is fsynced; the caller syncs the folder once per batch). Never
    /// over another file's state: a name whose state file is another job's, also one that
    /// another process saved a moment ago, fails with EEXIST and the caller picks another
    /// name. The job's own earlier state, or a file that is no state, is replaced.
    public func save(_ state: JobState, for name: String) throws {
        var writer = JSONObjectWriter()
        writer.add("attempts", state.attempts)
        writer.add("firstClaimedAt", Timestamp.format(state.firstClaimedAt))
        writer.add("nextAttemptAt", Timestamp.format(state.nextAttemptAt))
        writer.addRaw("inode", json: Array(String(state.inode).utf8))
        if let lane = state.lane {
            writer.add("laneClientId", lane.clientId)
            writer.add("laneOrderingKey", lane.orderingKey)
        }
        try FileSystem.writeAtomically(writer.finish() + [0x0A], to: path(name)) {
            try !isTakenByAnotherFile(name, inode: state.inode)
        }
    }

    /// Keys the state saved for `name` by `newName`, after its job was renamed to that name
    /// (a clash in the folder it moved to) and is now at `jobPath`. Only that job's own state
    /// moves: a state under `name` saved for another file (a namesake's) stays, and so does
    /// nothing when there is none. A state file of another job under `newName` is never
    /// replaced: the state then stays under `name` (callers choose `newName` free in
    /// `.state/`, so only a race with another process gets here). True when the state moved.
    @discardableResult
    public func rename(_ name: String, to newName: String, forFileAt jobPath: String) -> Bool {
        guard name != newName, let inode = FileSystem.inode(of: jobPath), (try? load(name, inode: inode)) != nil else { return false }
        do {
            try FileSystem.rename(path(name), to: path(newName), replacing: false)
            return true
        } catch let error as SystemError where error.isAlreadyExists {
            guard (try? isTakenByAnotherFile(newName, inode: inode)) == false else { return false }
            return (try? FileSystem.rename(path(name), to: path(newName))) != nil
        } catch {
            return false
        }
    }

    /// Removes the state saved for `name` only if it was saved for the file at `jobPath` (a
    /// namesake in another folder keeps its own); true when one was removed.
    @discardableResult
    public func remove(_ name: String, ofFileAt jobPath: String) -> Bool {
        guard let inode = FileSystem.inode(of: jobPath), (try? load(name, inode: inode)) != nil else { return false }
        remove(name)
        return true
    }

    public func remove(_ name: String) {
        try? FileSystem.remove(path(name))
    }
}

/// Which names have a state file, kept current by watching the folder's modification time
/// (any file created, renamed or removed in it changes that): one `fstat` on an open
/// descriptor per `refresh`, and a fresh listing only after the folder changed.
///
/// The intake thread refreshes once per batch, after the batch's claims: a state file is
/// written before its job is put (back) into `incoming/`, so one that exists for a job just
/// claimed shows in a refresh made after the claim. For one thread; not thread-safe.
public final class JobStateIndex {
    private let directory: String
    private var seenChange: (Int, Int) = (-1, -1)
    private var names = Set<String>()
    private var trusted = false

    init(directory: String) {
        self.directory = directory
    }

    /// Looks at the folder again.
    public func refresh() {
        trusted = false
        guard let (change, age) = FileSystem.modificationStamp(of: directory) else { return }
        // The kernel stamps folders with a coarse clock (a few milliseconds), so two changes
        // close together may share a stamp: a folder changed this recently is not trusted.
        if age < 0.05 { return }
        if change != seenChange {
            guard let listing = try? DirectoryStream.names(in: directory) else { return }
            names = Set(listing)
            seenChange = change
        }
        trusted = true
    }

    /// False only when certainly no state file of that name existed at the last `refresh`.
    public func mayHaveState(_ name: String) -> Bool {
        !trusted || names.contains(name)
    }
}
