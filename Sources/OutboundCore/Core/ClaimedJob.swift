/// A job this process holds in its claim area, with what the dispatch core knows about it.
/// A value: the core changes its copy (one more attempt, a fresh gate pass) and nothing else
/// sees the change until the core hands the job out in an action.
struct ClaimedJob {
    /// The file name inside the claim area (and the folder it returns to).
    let name: String
    let job: Job
    let inode: UInt64
    /// What the byte budget holds for it (its file's size), released when it leaves.
    let bytes: Int
    /// Where it was claimed from, and where it goes back if the process stops first.
    let origin: SpoolFolder
    /// Attempts already made, over the job's whole life (restored from its state file).
    var attempts: Int
    let firstClaimedAt: Double
    /// Whether a state file exists for it in `.state/` (to be removed when it finishes).
    var hasSavedState: Bool
    /// The number of its `accepted` audit line (0 if it has none): it is not sent before the
    /// committer has that line on disk.
    var acceptedLine = 0
    /// Its pass through the gate, while the configuration that made it is in force.
    var gatePass: GatePass?
    /// Its ordered lane (contract 14), nil without `orderingKey`: worked out once.
    let lane: LaneKey?
    /// Sent after a later job of its lane had been sent: its outcome line says so.
    var lateInLane = false
    /// The bearer token its transfer carries (OAuth clients, contract 12), set when it starts.
    var bearer: AccessToken?
    /// It was sent again at once after a 401 dropped its token: a second 401 is its outcome.
    var retriedAfter401 = false

    init(name: String, job: Job, inode: UInt64, bytes: Int, origin: SpoolFolder, attempts: Int, firstClaimedAt: Double, hasSavedState: Bool) {
        self.name = name
        self.job = job
        self.inode = inode
        self.bytes = bytes
        self.origin = origin
        self.attempts = attempts
        self.firstClaimedAt = firstClaimedAt
        self.hasSavedState = hasSavedState
        lane = LaneKey(job)
    }

    /// The destination whose per-host limit the job counts against.
    var hostKey: String { job.url.hostKey }
}
