/// The job bytes a process holds in memory (`maxClaimedBytes`, contract section 5): claimed and
/// read, waiting or in flight. A pure counter: the intake asks before it reads a file, the
/// dispatch core reserves and releases, and nothing here touches memory itself.
///
/// A job is charged its file's size (read with fstat before the bytes are read): the decoded
/// body is never larger than the file it came from, and the raw bytes are dropped once decoded.
/// One job larger than the whole budget still goes, alone: it is granted only when nothing
/// else is held, and while it is held nothing else is.
public struct ByteBudget: Sendable, Equatable {
    /// What a reservation got.
    public enum Grant: Sendable, Equatable {
        case granted
        /// Not now: wait until bytes are released.
        case wait
    }

    public let limit: Int
    /// Bytes reserved and not yet released.
    public private(set) var held = 0
    /// Reservations not yet released.
    public private(set) var holders = 0

    public init(limit: Int) {
        precondition(limit > 0, "maxClaimedBytes is checked by ConfigLoader")
        self.limit = limit
    }

    /// Whether `bytes` could be reserved now, without reserving them.
    public func wouldGrant(_ bytes: Int) -> Bool {
        precondition(bytes >= 0, "a job's size is never negative")
        if holders == 0 { return true }  // a job larger than the budget goes alone
        return bytes <= limit - held
    }

    /// Reserves `bytes` for one job if they fit.
    public mutating func reserve(_ bytes: Int) -> Grant {
        guard wouldGrant(bytes) else { return .wait }
        held += bytes
        holders += 1
        return .granted
    }

    /// Gives back a reservation of `bytes` (the job was filed, or its bytes dropped).
    public mutating func release(_ bytes: Int, jobs: Int = 1) {
        precondition(holders >= jobs && bytes >= 0 && bytes <= held, "released more than was reserved")
        held -= bytes
        holders -= jobs
    }

    /// The largest file the intake may claim and read now: the room left, or any size at all
    /// when nothing is held (that job then goes alone).
    public var largestClaimable: Int {
        holders == 0 ? Int.max : max(0, limit - held)
    }

    /// Whether the intake may claim and read a file of `fileSize` bytes now (the size from
    /// fstat, before the bytes are read).
    public func mayClaim(fileSize: Int) -> Bool {
        wouldGrant(fileSize)
    }
}
