import Glibc

/// Ordered lanes (contract 14) in the shell: the lane-owner lock, blocked-lane markers, and
/// jobs handed back to the lane owner.
extension Dispatcher {
    /// Carries out a lane action of the core. `blockersFiledAs`: jobs at fault of this batch
    /// filed under another name than their claim's (claim name → filed name).
    func performLaneAction(_ action: DispatchAction, blockersFiledAs: [String: String] = [:]) {
        switch action {
        case .yieldToLaneOwner(let name, let folder, let bytes):
            defer { if bytes > 0 { intake.releaseBytes(bytes) } }
            do {
                let target = try area.moveOut(name, to: folder)
                if folder == .deferred { core.deferralFiled(as: target, due: clock.now() + IntakeWorker.laneYieldSeconds) }
            } catch {
                spoolFault(error, claim: name, origin: folder)
            }
        case .parkBehindRetry(let name, let folder, let bytes, let until):
            defer { if bytes > 0 { intake.releaseBytes(bytes) } }
            // Told before the move, so the intake never claims it again at once.
            if folder == .incoming { intake.lookLater(at: name, after: until) }
            do {
                let target = try area.moveOut(name, to: folder)
                core.laneJobParked(name, as: target)
                if folder == .deferred { core.deferralFiled(as: target, due: until) }
                if folder == .incoming && target != name { intake.lookLater(at: target, after: until) }
            } catch {
                // Left claimed, it would be in no lane: the lane would go on without it.
                spoolFault(error, claim: name, origin: folder)
            }
        case .holdInBlockedLane(var filing, let claimed):
            if let byJob = filing.record.blockedBy, let filedAs = blockersFiledAs[byJob] {
                OutcomeRecords.name(record: &filing.record, blockedBy: filedAs)
            }
            if let lane = claimed.lane, !laneMarkers.isBlocked(lane) {
                perform(core.laneUnblockedOnDisk(claimed, now: clock.now()))
            } else {
                file(filing)
                if filing.bytes > 0 { intake.releaseBytes(filing.bytes) }
            }
        case .laneUnblocked(let lane):
            laneMarkers.unblock(lane)
        default:
            preconditionFailure("not a lane action: \(action)")
        }
    }

    /// The name the job at fault `name` of a lane will have in the folder its filing among
    /// `actions` goes to: its own, or the next free `~N` when a job of that name is there
    /// already. Its own when that cannot be told: the filing then meets the error itself.
    func nameForJobAtFault(_ name: String, filedBy actions: [DispatchAction]) -> String {
        for action in actions {
            guard case .file(let filing) = action, filing.name == name else { continue }
            return (try? SpoolMover.freeName(for: name, in: spool.path(filing.folder))) ?? name
        }
        return name
    }

    /// Blocks `lane` on disk, then writes `record`; false when the marker could not be
    /// written. Without its marker the lane would not be blocked for the next process (or for
    /// this one: a missing marker means the operator released it), so this process stops, and
    /// the job at fault goes back instead of to failed/ or refused/ (`perform`).
    ///
    /// The marker and the line name the file the job at fault gets in failed/ or refused/,
    /// `filedAs` (`nameForJobAtFault`), which is the one an operator requeues or purges; the
    /// core is told when that is not its claim name `byJob`.
    func blockLane(_ lane: LaneKey, byJob: String, filedAs: String, record: AuditRecord) -> Bool {
        var record = record
        if filedAs != byJob {
            core.laneBlockerFiled(lane, as: filedAs)
            record.blockedBy = filedAs
            record.file = filedAs
        }
        do {
            try laneMarkers.block(lane, byJob: filedAs, at: record.at)
        } catch {
            // Written but not made durable (the folder's fsync failed), it would hold the lane's
            // jobs in hold/ behind a job at fault that goes back: gone, if it can be.
            laneMarkers.unblock(lane)
            stopForSpoolError(error, fallback: SystemError("write", path: laneMarkers.folder, code: EIO), file: byJob,
                              whereTo: "the lane's blocked marker could not be written; the job goes back and this process stops",
                              during: "blocking an ordered lane")
            return false
        }
        audit.append(record)
        return true
    }

    /// Becomes the lane owner if the lanes are free (in each recovery pass, with `active/`
    /// locked, after the orphans are back in incoming/). The previous owner may have died
    /// after that pass looked at its claim folder: the folder is looked at again, and the
    /// lanes are taken only once it is gone. The new owner learns the blocked lanes now and
    /// the retrying heads in the deferred/ scan that follows, before its intake claims a
    /// lane job.
    func takeLanesIfFree() {
        do {
            let taken = try laneOwnership.takeIfFree(ownArea: area.name) { previous in
                let recovery = OrphanRecovery(spool: spool, ownArea: area.name)
                guard (try? recovery.isReleased(previous)) == true else { return false }
                return putBackOrphanedClaims()
            }
            guard taken else { return }
            laneTakeoverFailing = false
        } catch {
            laneTakeoverFailed(error)
            return
        }
        core.laneOwnershipChanged(owns: true)
        core.blockedLanesFound(laneMarkers.all().map { ($0.lane, $0.byJob) })
        scanDeferredFolder()
        intake.setOwnsLanes(true)
        intake.requestPass()
    }

    /// The lanes are free but could not be taken (the lock file or its folder could not be
    /// made: ENOSPC, EIO...). Lane jobs stay in incoming/ meanwhile. A drain would wait for
    /// them forever: it stops (exit 74) with its claims put back, and a later process takes
    /// them. `run` tries again at every recovery pass; the first failure in a row gets a
    /// `spool_error` line.
    private func laneTakeoverFailed(_ error: Error) {
        let fallback = SystemError("open", path: laneOwnership.path, code: EIO)
        if case .drain = core.mode {
            stopForSpoolError(error, fallback: fallback, file: nil,
                              whereTo: "the ordered lanes could not be taken; their jobs stay in incoming/ and this process stops",
                              during: "taking the ordered lanes")
            return
        }
        reportSpoolError(error)
        let failure = SystemError(error, otherwise: fallback)
        if !laneTakeoverFailing {
            laneTakeoverFailing = true
            audit.append(.spoolError(at: clock.now(), file: nil, error: failure,
                                     whereTo: "the ordered lanes could not be taken; their jobs stay in incoming/ until a recovery pass can"))
        }
    }
}
