/// What the dispatch core asks its I/O shell to do, in the order given. The core has already
/// updated its own state as if the action succeeded; a shell that cannot carry one out reports
/// back with the matching event (`transferSetupFailed`, `deferralFailed`, …).
enum DispatchAction {
    /// Send one attempt of `claimed` under `token`, with the client record the gate found
    /// (and `claimed.bearer` as its `Authorization` when the record has OAuth `auth`).
    case startTransfer(token: Int, claimed: ClaimedJob, client: ClientRecord)
    /// Request an access token for `client` (contract 12) under `token`, a transfer outside
    /// the jobs' concurrency; report its end with `DispatchCore.tokenFetchFinished`.
    case fetchToken(token: Int, client: ClientRecord)
    /// Append the `token` line of a finished token request.
    case writeTokenLine(AuditRecord)
    /// Queue the `accepted` line of a job admitted without one, and report its number back
    /// with `DispatchCore.acceptedLineQueued(_:forJobNamed:)`: the job is not sent before that
    /// line is on disk.
    case queueAcceptedLine(name: String, job: Job)
    /// File a finished job: write its sidecar, queue its outcome line, and rename it into its
    /// folder only once that line is on disk.
    case file(Filing)
    /// Move a job to `deferred/` with its retry state, once its line is on disk; report the
    /// name it got there with `DispatchCore.deferralFiled(_:as:)`.
    case deferJob(Deferral)
    /// A destination went down or came back up: its audit line, and `status`'s view of it.
    case destinationChanged(DestinationEvent)
    /// Return a claim to the folder it came from (a stop, an end, an audit failure); its
    /// `bytes` leave the byte budget.
    case putBack(name: String, to: SpoolFolder, bytes: Int)
    /// Ask the intake thread for a fresh pass over incoming/.
    case requestIntakePass
    /// Put back the claims of processes that are gone.
    case recoverOrphans
    /// Add jobs in deferred/ the schedule does not know yet (`DispatchCore.deferredFound`).
    case scanDeferredFolder
    // Ordered lanes (contract 14):
    /// A job of a lane this process does not own: back to `folder` for the owner, and not
    /// claimed again here for a while.
    case yieldToLaneOwner(name: String, to: SpoolFolder, bytes: Int)
    /// A job behind a lane's retrying head (or behind the lane's jobs parked for it): back to
    /// `folder`, not to be claimed here before `until` (when the head is due), so it holds no
    /// room in the claim window meanwhile.
    case parkBehindRetry(name: String, to: SpoolFolder, bytes: Int, until: Double)
    /// `lane` is blocked by the job `byJob`: write its marker and `record`, before the job at
    /// fault is filed and before the holds. Without its marker the lane is not blocked: the
    /// job at fault goes back where it came from instead, and the process stops.
    case laneBlocked(LaneKey, byJob: String, record: AuditRecord)
    /// A job of a blocked lane goes to hold/ (`filing`), unless the lane's marker is gone (the
    /// operator unblocked it): then `DispatchCore.laneUnblockedOnDisk(_:now:)` with `claimed`.
    case holdInBlockedLane(Filing, claimed: ClaimedJob)
    /// The job at fault came back (requeued): the lane's marker goes.
    case laneUnblocked(LaneKey)
}

/// A finished job on its way to `delivered/`, `failed/`, `refused/` or `corrupt/`.
struct Filing {
    /// The file name in the claim area.
    let name: String
    let folder: SpoolFolder
    var record: AuditRecord
    /// The `NAME.reason` file, for failed, refused and corrupt jobs.
    let sidecar: ReasonSidecar?
    /// Whether the job's `.state/` file goes when it leaves.
    let clearsState: Bool
    /// What the byte budget held for the job (0 when nothing: a corrupt file's bytes went at once).
    var bytes = 0
    /// Where the job came from: where it goes back if its filing cannot be made.
    var origin = SpoolFolder.incoming
}

/// A job on its way to `deferred/`: the state saved for its next attempt and its line.
struct Deferral: Sendable {
    /// The file name in the claim area.
    let name: String
    let state: JobState
    let record: AuditRecord
    /// What the byte budget held for the job.
    var bytes = 0
    /// Where the job came from: where it goes back if the deferral cannot be made.
    var origin = SpoolFolder.incoming
    /// Whether the run's summary counts it as a retry (an attempt that failed; not a job set
    /// aside while its destination is down or its token is missing).
    var countsAsRetry = false
}
