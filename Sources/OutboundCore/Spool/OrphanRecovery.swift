import Glibc

/// Finds claim folders in `active/` whose process is gone and puts their jobs back in
/// `incoming/` (Postfix's habit: a crashed program recovers by looking at the folders).
///
/// A folder is orphaned when its `.lock` can be locked: the kernel released the dead
/// owner's flock. Live processes' folders are never touched, so processes can share a spool.
public struct OrphanRecovery {
    public let spool: Spool
    public let ownArea: String?

    public init(spool: Spool, ownArea: String?) {
        self.spool = spool
        self.ownArea = ownArea
    }

    /// A job put back: its file name and the folder it was found in.
    public struct Recovered: Sendable {
        public let name: String
        public let claimFolder: String
    }

    /// Moves every orphaned job back to `incoming/`; `willMove` runs (for the audit) before
    /// each folder's jobs are moved.
    public func run(willMove: ([Recovered]) throws -> Void) throws -> [Recovered] {
        var recovered: [Recovered] = []
        let activePath = spool.path(.active)
        for entry in try DirectoryStream.names(in: activePath) {
            let entryPath = "\(activePath)/\(entry)"
            if entry == ownArea { continue }
            switch FileSystem.kind(of: entryPath) {
            case .regular where Spool.isJobName(entry):
                // A job directly in active/ belongs to no process.
                let found = [Recovered(name: entry, claimFolder: activePath)]
                try willMove(found)
                try putBack(found)
                recovered += found
            case .directory:
                // A claim folder still being built (`.new-…`): its owner creates the lock
                // file a moment before locking it, so an unheld lock proves nothing yet.
                // Only one left this long by a process killed while building is cleared.
                if entry.hasPrefix("."), !Self.isAbandoned(entryPath) { continue }
                recovered += try recoverFolder(entryPath, willMove: willMove)
            default:
                continue
            }
        }
        return recovered
    }

    /// Whether the claim folder `area` in `active/` no longer belongs to a live process: it
    /// is gone, or nobody holds its lock (a pass of `run` then empties it).
    public func isReleased(_ area: String) throws -> Bool {
        let folder = "\(spool.path(.active))/\(area)"
        guard FileSystem.kind(of: folder) == .directory else { return true }
        if case .held = try FileLock.probe("\(folder)/.lock") { return false }
        return true
    }

    private func recoverFolder(_ folder: String, willMove: ([Recovered]) throws -> Void) throws -> [Recovered] {
        let lockPath = "\(folder)/.lock"
        // Held until the folder is cleared. Only a missing lock file counts as "no lock";
        // any other failure to look (EMFILE under descriptor pressure, say) leaves the
        // folder alone: its owner may be alive.
        var lock: FileLock?
        switch try FileLock.probe(lockPath) {
        case .missing:
            // A folder being built (skip unless it is old) or a broken one.
            guard Self.isAbandoned(folder) else { return [] }
        case .held:
            return []   // its owner is alive
        case .taken(let taken):
            lock = taken
        }
        defer { withExtendedLifetime(lock) {} }
        let holders = try ClaimArea.jobFolders(in: folder)
        var found: [Recovered] = []
        for holder in holders {
            found += try DirectoryStream.names(in: holder).filter(Spool.isJobName).map { Recovered(name: $0, claimFolder: holder) }
        }
        if !found.isEmpty {
            try willMove(found)
            try putBack(found)
        }
        for holder in holders.dropFirst() { try? FileSystem.removeDirectory(holder) }
        try? FileSystem.remove(lockPath)
        try? FileSystem.removeDirectory(folder)
        return found
    }

    /// A claim folder being built, or a temporary file being written (`StaleTemporaryFiles`),
    /// untouched for a minute: no live process takes that long between the first step and
    /// the rename into place.
    static func isAbandoned(_ path: String, now: Double = SystemClock().now()) -> Bool {
        guard let modified = FileSystem.modificationTime(of: path) else { return false }
        return now - modified > abandonedAfterSeconds
    }

    static let abandonedAfterSeconds: Double = 60

    private func putBack(_ jobs: [Recovered]) throws {
        for job in jobs {
            try SpoolMover.move("\(job.claimFolder)/\(job.name)", named: job.name, into: spool.path(.incoming))
        }
        try FileSystem.syncDirectory(spool.path(.incoming))
    }
}
