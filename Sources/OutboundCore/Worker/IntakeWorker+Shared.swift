extension IntakeWorker {
    /// What the loop and the intake thread share.
    struct Shared {
        var decoder: JobDecoder
        var gate: Gate
        /// The dispatcher's generation number of the configuration `gate` belongs to.
        var gateGeneration: Int
        var maxJobBytes: Int
        var credit = 0
        var results: [IntakeResult] = []
        /// The most the batch being claimed and read right now can add to `results`.
        var batchLimit = 0
        var arrivals: [String] = []
        var passRequested = false
        var busy = false
        var passes = IntakePasses()
        /// How many files in incoming/ could not be claimed, as of the last batch.
        var unclaimableNow = 0
        /// Job bytes held in memory by this process (`maxClaimedBytes`): reserved here before
        /// a file is read, released by the loop when the job leaves it.
        var budget: ByteBudget
        /// Releases so far: claimed files waiting for room are tried again after one.
        var releases = 0
        /// The last listing of incoming/ failed (readdir or opendir).
        var listingFailed = false
        /// Claimed files wait for room: only then does a release wake the intake thread.
        var waitingForRoom = false
        /// Whether this process owns the ordered lanes (else `LaneScreen` keeps lane jobs out).
        var ownsLanes = false
        /// Names to leave in incoming/ until a set time (parked behind a lane's retry).
        var later: [(name: String, due: Double)] = []
        /// Destinations the loop found stalled (`DispatchCore.stalledDestinations`).
        var stalled: Set<String> = []
        /// Destinations that left `stalled` since the intake thread last looked (some may be
        /// back in it): their jobs left in incoming/ are candidates again.
        var movedAgain: Set<String> = []
        /// A claim that could not be moved back to incoming/ `unreadableLimit` times in a row
        /// (`keepClaimed`), and the last error: the loop stops the process (exit 74).
        var stuckClaim: (name: String, error: Error)?
        /// The earliest file left unread in incoming/ ("" while the last listing failed), for
        /// the core's lanes (`DispatchCore.releaseNext`).
        var earliestUnread: String?

        /// The room that makes a round of claiming worth waking for: claiming in batches
        /// keeps the hand-offs between the two threads (a futex and a pipe write each) rare.
        var batchThreshold: Int { max(1, min(16, credit / 4)) }
    }
}
