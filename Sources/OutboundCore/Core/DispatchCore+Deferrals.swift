/// Jobs set aside for a retry. The shell carries a deferral out in three steps (the job's state
/// saved, its `deferred` line made durable, its move into deferred/) and reports the end with
/// `deferralMade` or `deferralAbandoned`; until then the job is in no queue of the core, and a
/// drain does not end.
extension DispatchCore {
    /// Sets `claimed` aside with `deferral`; a lane's head holds its lane meanwhile.
    mutating func setAside(_ claimed: ClaimedJob, _ deferral: Deferral) -> [DispatchAction] {
        deferralsUnderway += 1
        return [.deferJob(deferral)] + laneAfterDeferral(claimed, deferral)
    }

    /// A deferral carried out: the job waits in deferred/ as `target`.
    mutating func deferralMade(as target: String, due: Double, lane: LaneKey?) {
        deferralsUnderway -= 1
        deferralFiled(as: target, due: due, lane: lane)
    }

    /// A deferral that could not be carried out (the process stops). `recorded`: its line is on
    /// disk, so the job still counts as deferred; without it the job is not counted at all.
    mutating func deferralAbandoned(recorded: Bool) {
        deferralsUnderway -= 1
        if !recorded { outcomeNotRecorded(.deferred) }
    }
}
