/// How a process that does not own the spool's ordered lanes (contract 14) keeps its hands off
/// lane jobs: it reads each candidate in incoming/ *before* claiming it, and leaves the ones
/// with an `orderingKey` there for the lane owner.
///
/// Claiming first and handing a lane job back would let the owner, whose claim of that job
/// just failed, claim and send a later job of the lane while the earlier one sits in this
/// process's claim area (seen in tests: three processes sharing a spool mixed up lanes).
/// A file that cannot be read in place for now, or does not decode yet while younger than a
/// second, is left there too: it may be a lane job, and claimed here, even for a moment, it
/// would be out of the owner's sight while the owner sends a later job of its lane.
/// The unordered jobs read here are used once claimed, if the file claimed is the file read
/// (same inode), so they are read once, as before.
final class LaneScreen {
    /// An unordered job read before its claim, its bytes reserved in the byte budget.
    typealias EarlyRead = (job: Job, inode: UInt64, bytes: Int)

    /// Why a candidate is left in incoming/ for now.
    enum Later {
        /// A lane job: the owner takes it.
        case lane
        /// The byte budget has no room: looked at again shortly.
        case noRoom
        /// It could not be read (EIO, EMFILE...): read again later, like a claim put back.
        case unreadable(SystemError)
        /// It does not decode but was modified less than a second ago (at `modified`).
        case young(modified: Double)
    }

    let folder: DirectoryHandle
    let decoder: JobDecoder
    let limit: Int
    let reserve: (Int) -> Bool
    let release: (Int) -> Void
    /// The unordered jobs read, by name, until claimed (`take`) or let go.
    private var read: [String: EarlyRead] = [:]

    init(folder: DirectoryHandle, decoder: JobDecoder, limit: Int, reserve: @escaping (Int) -> Bool, release: @escaping (Int) -> Void) {
        self.folder = folder
        self.decoder = decoder
        self.limit = limit
        self.reserve = reserve
        self.release = release
    }

    /// Removes from `candidates` what is not to be claimed now, each reported to `later`.
    func screen(_ candidates: inout [String], now: Double, later: (String, Later) -> Void) {
        var full = false
        candidates.removeAll { name in
            if full {
                later(name, .noRoom)
                return true
            }
            var reserved = 0
            let outcome = JobFileReader.read(name, in: folder, decoder: decoder, limit: limit) { size in
                guard reserve(size) else { return false }
                reserved = size
                return true
            }
            switch outcome {
            case .waitForBytes:
                full = true
                later(name, .noRoom)
                return true
            case .job(let job, let inode, let bytes) where job.orderingKey == nil:
                self.read[name] = (job, inode, bytes)
                return false
            case .job:
                release(reserved)
                later(name, .lane)
                return true
            case .unreadable(let error):
                if reserved > 0 { release(reserved) }
                later(name, .unreadable(error))
                return true
            case .corrupt(_, _, let modified?) where JobFileReader.mayStillBeWritten(modified: modified, now: now):
                if reserved > 0 { release(reserved) }
                later(name, .young(modified: modified))
                return true
            case .corrupt:
                // Claimed and read again like any file, to be filed the usual way.
                if reserved > 0 { release(reserved) }
                return false
            }
        }
    }

    /// What was read of `name`, now claimed at `path`, if the file claimed is the file read
    /// (same inode); else its bytes go back and it is read again.
    func take(_ name: String, claimedAt path: String) -> EarlyRead? {
        guard let early = read.removeValue(forKey: name) else { return nil }
        if early.inode == FileSystem.inode(of: path) { return early }
        release(early.bytes)
        return nil
    }

    /// Jobs read but not claimed (another process was first): their bytes go back.
    func releaseUntaken() {
        for early in read.values { release(early.bytes) }
        read.removeAll()
    }
}
