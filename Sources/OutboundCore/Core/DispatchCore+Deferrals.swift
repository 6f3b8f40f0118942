/// Jobs set aside for a retry. The shell carries a deferral out in three steps (the job's state
/// saved, its `deferred` line made durable, its move into deferred/) and reports each: the line
/// written (`deferralRecorded`), and the end, `deferralMade`, `deferralNotSaved` or
/// `deferralNotMoved`. Until then the job is in no queue of the core, and a drain does not end.
extension DispatchCore {
    /// Sets `claimed` aside with `deferral`; a lane's head holds its lane meanwhile.
    /// `countsAsRetry`: an attempt failed (the summary's `retries`).
    mutating func setAside(_ claimed: ClaimedJob, _ deferral: Deferral, countsAsRetry: Bool = false) -> [DispatchAction] {
        var deferral = deferral
        deferral.countsAsRetry = countsAsRetry
        if countsAsRetry { summary.deferred += 1 }
        deferralsUnderway += 1
        return [.deferJob(deferral)] + laneAfterDeferral(claimed, deferral)
    }

    /// Its state is saved and its line written: the job is on its way into deferred/ as
    /// `target`, which the deferred/ scan must leave to this deferral (`isScheduled`).
    mutating func deferralRecorded(as target: String) {
        movingToDeferred.insert(target)
    }

    /// A deferral carried out: the job waits in deferred/ as `target` (its line said
    /// `recordedAs`, the name it was to have; another after a clash).
    mutating func deferralMade(as target: String, recordedAs: String, due: Double, lane: LaneKey?) {
        deferralsUnderway -= 1
        movingToDeferred.remove(recordedAs)
        deferralFiled(as: target, due: due, lane: lane)
    }

    /// Its state could not be saved, or was never saved (a stop): no line was written, the job
    /// goes back where it came from and is not counted.
    mutating func deferralNotSaved(_ deferral: Deferral) {
        deferralsUnderway -= 1
        if deferral.countsAsRetry { summary.deferred -= 1 }
    }

    /// Its line is on disk but its move into deferred/ as `target` failed (the process stops;
    /// the shell tries the move once more). It still counts.
    mutating func deferralNotMoved(as target: String) {
        deferralsUnderway -= 1
        movingToDeferred.remove(target)
    }
}
