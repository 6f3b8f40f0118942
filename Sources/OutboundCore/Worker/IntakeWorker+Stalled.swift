/// Jobs for a stalled destination (`DispatchCore.stalledDestinations`: at its share, and none
/// of its transfers has ended for a while). Claimed and read, such a job could only wait in
/// the claim window, and a partner with a large backlog would fill it and hold up every other
/// partner until its attempts time out and its circuit opens. So the intake puts it back in
/// incoming/ before its `accepted` line is written, and looks at it again once the destination
/// has moved (a transfer ended, or its circuit opened and set its jobs aside), or after
/// `stalledRecheckSeconds` in any case. Runs on the intake thread.
extension IntakeWorker {
    /// The longest a job is left in incoming/ for a destination that stays stalled.
    static let stalledRecheckSeconds = 60.0

    /// Puts `name` back in incoming/ when `job` is for a stalled destination; true when it did.
    /// Jobs of an ordered lane (their order is the lane's) and jobs with retry state stay
    /// claimed. When the move fails the job stays claimed and goes on as usual.
    func leaveForStalledDestination(_ name: String, job: Job, stalled: Set<String>) -> Bool {
        let key = job.url.hostKey
        guard stalled.contains(key), job.orderingKey == nil, !stateIndex.mayHaveState(name),
              let target = try? SpoolMover.move(area.path(of: name), named: name, into: spool.path(.incoming)) else { return false }
        leftForStalled[target] = key
        laterFiles[target] = clock.now() + Self.stalledRecheckSeconds
        return true
    }

    /// Jobs left for destinations no longer in `stalled` are due for a look now.
    func lookAgainAtJobsNoLongerStalled(stalled: Set<String>, now: Double) {
        for (name, key) in leftForStalled where !stalled.contains(key) {
            leftForStalled[name] = nil
            laterFiles[name] = now
        }
    }
}
