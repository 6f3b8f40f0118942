/// Jobs for a stalled destination (`DispatchCore.stalledDestinations`: at its share, and none
/// of its transfers has ended for a while). Claimed and read, such a job could only wait in
/// the claim window, and a partner with a large backlog would fill it and hold up every other
/// partner until its attempts time out and its circuit opens. So the intake puts it back in
/// incoming/ before its `accepted` line is written, passes over its name, and claims it again
/// once the destination has moved (a transfer to it ended, or its circuit opened and its
/// jobs are set aside). It always moves within `timeoutMs`, when its transfers time out.
/// Runs on the intake thread.
extension IntakeWorker {
    /// Puts `name` back in incoming/ when `job` is for a stalled destination; true when it did.
    /// Jobs of an ordered lane (their order is the lane's) and jobs with retry state stay
    /// claimed. When the move fails the job stays claimed and goes on as usual.
    func leaveForStalledDestination(_ name: String, job: Job, stalled: Set<String>) -> Bool {
        let key = job.url.hostKey
        guard stalled.contains(key), job.orderingKey == nil, !stateIndex.mayHaveState(name),
              let target = try? moveBack(name) else { return false }
        leftForStalled[target] = key
        return true
    }

    /// The jobs left in incoming/ for `destinations`, which moved again: no longer passed over.
    func takeJobsLeftFor(_ destinations: Set<String>) -> [String] {
        var names: [String] = []
        for (name, key) in leftForStalled where destinations.contains(key) {
            leftForStalled[name] = nil
            names.append(name)
        }
        return names
    }
}
