/// Ordered lanes (contract 14) in the dispatch core: where a lane job is admitted, and what a
/// head's end means for the jobs behind it. The rules themselves are `LaneTable`'s.
extension DispatchCore {
    /// A claimed job of `lane`: it goes now if it is the lane's head, waits behind the head, or
    /// goes to hold/ if the lane is blocked. A process that does not own the lanes hands it back.
    mutating func admitToLane(_ claimed: ClaimedJob, _ lane: LaneKey, now: Double) -> [DispatchAction] {
        guard ownsLanes else { return [.yieldToLaneOwner(name: claimed.name, to: claimed.origin, bytes: claimed.bytes)] }
        switch lanes.admit(claimed, in: lane, now: now) {
        case .go(let head): return enterReady(head, now: now)
        case .resumes(let head): return [.laneUnblocked(lane)] + enterReady(head, now: now)
        case .waits: return []
        case .parks(let until):
            // Not before a moment from now: a job back early would only be parked again.
            return [.parkBehindRetry(name: claimed.name, to: claimed.origin, bytes: claimed.bytes, until: max(until, now + 0.25))]
        case .blocked(let byJob): return [.holdInBlockedLane(records.laneHold(claimed, byJob: byJob, at: now), claimed: claimed)]
        }
    }

    /// Files a job and says what its end means for its lane: the next job goes, or, after a
    /// failure under `lanes.onFailure: block`, the lane is blocked and its waiting jobs go to
    /// hold/. The block comes first: its marker must be on disk before the job at fault
    /// leaves its claim, or a failed head could sit in failed/ with nothing on disk to hold
    /// its lane for the next process.
    mutating func file(_ filing: Filing, _ claimed: ClaimedJob, now: Double) -> [DispatchAction] {
        guard let lane = claimed.lane, ownsLanes else { return [.file(filing)] }
        if filing.folder == .delivered {
            return [.file(filing)] + (lanes.headDelivered(in: lane).map { releaseNext($0, in: lane, now: now) } ?? [])
        }
        let (held, next) = lanes.headFailed(claimed.name, in: lane)
        var actions: [DispatchAction] = []
        if lanes.policy == .block {
            actions.append(.laneBlocked(lane, byJob: claimed.name, record: records.laneBlocked(by: claimed, at: now)))
        }
        actions.append(.file(filing))
        for job in held {
            actions.append(.holdInBlockedLane(records.laneHold(job, byJob: claimed.name, at: now), claimed: job))
        }
        if let next { actions += releaseNext(next, in: lane, now: now) }
        return actions
    }

    /// The next job of a lane, after its head: it goes, unless a file left unread in
    /// incoming/ sorts before it (`earliestUnread`: it may be an earlier job of the lane that
    /// arrived late). Then it and the jobs behind it are parked until the intake reads them
    /// again; each waits there behind the unread file (`IntakeWorker.unreadFileBefore`).
    mutating func releaseNext(_ next: ClaimedJob, in lane: LaneKey, now: Double) -> [DispatchAction] {
        guard let unread = earliestUnread, unread.isEmpty || unread.bytePrecedes(next.name) else { return enterReady(next, now: now) }
        let until = now + Self.unreadRecheckSeconds
        return lanes.parkWaiting(from: next, until: until, in: lane).map {
            .parkBehindRetry(name: $0.name, to: $0.origin, bytes: $0.bytes, until: until)
        }
    }

    static let unreadRecheckSeconds = 1.0

    /// A parked lane job went back to its folder as `target`, not `name` (a namesake was
    /// there): its lane waits for it under that name.
    mutating func laneJobParked(_ name: String, as target: String) {
        if target != name { lanes.parkedRenamed(name, to: target) }
    }

    /// A lane's head is deferred: the jobs that waited behind it are parked until it is due.
    mutating func laneAfterDeferral(_ claimed: ClaimedJob, _ deferral: Deferral) -> [DispatchAction] {
        guard let lane = claimed.lane, ownsLanes else { return [] }
        let due = deferral.state.nextAttemptAt
        return lanes.headDeferred(as: claimed.name, due: due, in: lane).map {
            .parkBehindRetry(name: $0.name, to: $0.origin, bytes: $0.bytes, until: due)
        }
    }

    /// The shell filed the job at fault of `lane` under `name`, not its claim name (a job of
    /// that name was already in failed/ or refused/): later `lane_blocked` lines and the
    /// lane's resumption go by that name.
    mutating func laneBlockerFiled(_ lane: LaneKey, as name: String) {
        lanes.blockerFiled(as: name, in: lane)
    }

    /// A job of a blocked lane was about to go to hold/, but the lane's marker is gone: the
    /// operator unblocked it. The lane accepts jobs again, this one first.
    mutating func laneUnblockedOnDisk(_ claimed: ClaimedJob, now: Double) -> [DispatchAction] {
        guard let lane = claimed.lane else { return [] }
        lanes.unblock(lane)
        return admitToLane(claimed, lane, now: now)
    }

    /// A retry of `lane` found in deferred/ (at start or after a takeover) holds its lane.
    mutating func laneRetryFound(_ name: String, due: Double, in lane: LaneKey) {
        lanes.retryFound(name, due: due, in: lane)
    }

    /// Lanes found blocked on disk (their markers), when this process becomes the lane owner.
    mutating func blockedLanesFound(_ found: [(lane: LaneKey, byJob: String)]) {
        for entry in found { lanes.blockedFound(entry.lane, byJob: entry.byJob) }
    }

    /// Whether this process owns the spool's lanes now; on losing them (never, while alive)
    /// or gaining them the table starts empty.
    mutating func laneOwnershipChanged(owns: Bool) {
        ownsLanes = owns
    }
}

extension DispatchCore {
    /// A due retry not in deferred/ yet: its move there waits for its `deferred` line to be
    /// on disk (a `Retry-After: 0` makes it due at once). Due again in a moment; taking it for
    /// gone would let a lane's later jobs go before it.
    mutating func retryNotYetInDeferred(_ name: String, now: Double) {
        retryPutOff(name, now: now, for: Self.notYetInDeferredSeconds)
    }

    static let notYetInDeferredSeconds = 0.02

    /// A due retry was gone when claimed (another process, or an operator, moved it). A lane's
    /// retrying head that left deferred/ by other hands no longer holds its lane.
    mutating func retryGone(_ name: String, now: Double) -> [DispatchAction] {
        guard let lane = lanes.laneRetrying(name) else { return [] }
        return lanes.retryVanished(name, in: lane).map { enterReady($0, now: now) } ?? []
    }
}
