/// The intake's part in ordered lanes (contract 14): what it does with lane jobs while
/// another process owns the lanes, and how it starts when this process takes them over.
extension IntakeWorker {
    /// A lane job this process does not own the lanes for: left in incoming/ and looked at
    /// again after `laneYieldSeconds`.
    func yieldToLaneOwner(_ name: String, now: Double) {
        laterFiles[name] = now + Self.laneYieldSeconds
        laneYields.insert(name)
    }

    /// The first claim since this process became the lane owner. Lane jobs it left for the
    /// old owner are candidates again at once, and the queue starts over with a full, sorted
    /// listing of incoming/ (names inotify reported are dropped: the listing has them). The
    /// dead owner's claims are back in incoming/ by now (the takeover waits for that), so the
    /// listing holds each lane's earliest jobs: claiming from it, and not from a name left
    /// over from before, keeps a later job of a lane from going out before an earlier one
    /// that was still waiting here. A process that owned the lanes before its intake gathered
    /// a single name (the usual start: the lanes are taken before the intake starts) has
    /// nothing to start over from, and keeps the listing it has.
    func startClaimingAsLaneOwner() {
        claimsAsLaneOwner = true
        guard gatheredBeforeLaneOwnership || !laneYields.isEmpty else { return }
        for name in laneYields { laterFiles[name] = nil }
        laneYields.removeAll()
        queue.startOver()
    }
}
