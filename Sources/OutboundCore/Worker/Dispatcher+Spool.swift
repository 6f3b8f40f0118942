import Glibc

/// The spool side of the shell: filing, deferring and putting back jobs, committing the audit
/// lines that describe those moves before the moves are made, recovery and the deferred/ scan.
extension Dispatcher {
    /// Queues a final move: sidecar written now, audit line queued, rename after the commit.
    /// `settledName`: the name already given to it (a lane's job at fault, named by its
    /// lane's marker).
    func file(_ filing: Filing, settledAs settledName: String? = nil) {
        let folderPath = spool.path(filing.folder)
        do {
            // A sidecar needs its final name now; otherwise the no-replace rename at commit
            // finds out about a clash by itself, which saves two lookups per job.
            let target = try settledName ?? (filing.sidecar == nil ? filing.name : SpoolMover.freeName(for: filing.name, in: folderPath))
            try filing.sidecar?.write(beside: target, in: folderPath)
            // A name settled now is the one its line gives (a clash at the rename, another
            // process taking it meanwhile, still picks the next).
            var record = filing.record
            if target != filing.name { record.file = target }
            audit.append(record)
            moves.add(FileMove(name: filing.name, to: filing.folder, target: target, sidecar: filing.sidecar,
                               clearsState: filing.clearsState))
        } catch {
            core.outcomeNotRecorded(filing.folder)
            spoolFault(error, claim: filing.name, origin: filing.origin)
        }
    }

    /// Sets a job aside for a retry, in the order that keeps a crash from losing its attempts:
    /// its state saved (on the filing thread), then its `deferred` line made durable, then its
    /// move into deferred/; the loop takes each step's end in `recordDeferralProgress`.
    func deferJob(_ deferral: Deferral) {
        filingWorker.saveState(for: deferral)
    }

    /// Carries deferrals on from where the filing thread got them: a saved state gets its line
    /// and its move (made once the line is on disk); a job in deferred/ is scheduled. A state
    /// that could not be saved, or a move that failed, stops the process, as any outcome that
    /// cannot be written does (`spoolFault`).
    func recordDeferralProgress() {
        let progress = filingWorker.takeDeferralProgress()
        guard !progress.isEmpty else { return }
        for (deferral, target) in progress.saved {
            // Its name in deferred/ is settled with its state: the line names it.
            var record = deferral.record
            record.file = target
            audit.append(record)
            core.deferralRecorded(as: target)
            moves.add(FileMove(name: deferral.name, to: .deferred, target: target, sidecar: nil, clearsState: false,
                               retry: RetryDue(due: deferral.state.nextAttemptAt, lane: deferral.state.lane,
                                              stateInode: deferral.state.inode)))
        }
        for (deferral, error) in progress.unsaved {
            core.deferralNotSaved(deferral)
            spoolFault(error, claim: deferral.name, origin: deferral.origin)
        }
        for (recordedAs, target, retry) in progress.filed {
            core.deferralMade(as: target, recordedAs: recordedAs, due: retry.due, lane: retry.lane)
        }
        for (move, error) in progress.unmoved {
            // Its `deferred` line is on disk, its state saved: it goes back to deferred/ under
            // the name its state and line have (or, failing that, at the end), and the process
            // stops rather than go on with a spool that fails under it.
            core.deferralNotMoved(as: move.target)
            spoolFault(error, claim: move.name, origin: .deferred, as: move.target)
        }
    }

    /// A job's outcome could not be written (a sidecar, a state file, a free name: ENOSPC,
    /// EIO, EMFILE...). The outcome is dropped: the job goes back where it came from, a
    /// `spool_error` line says so, and the process stops (exit 74) with its claims put back,
    /// rather than go on with a spool that fails under it.
    func spoolFault(_ error: Error, claim name: String, origin: SpoolFolder, as preferred: String? = nil) {
        let returned = returnClaim(name, to: origin, as: preferred)
        stopForSpoolError(error, fallback: SystemError("write", path: name, code: EIO), file: name,
                          whereTo: returned ? "put back in \(origin.rawValue)/; this process stops" : nil, during: "filing a job")
    }

    /// The spool failed under this process in a way it does not go on from: said on stderr
    /// and, with `whereTo`, in a `spool_error` line about `file`; then the process stops
    /// (exit 74). `fallback` names the call when `error` is not a `SystemError`.
    func stopForSpoolError(_ error: Error, fallback: SystemError, file: String?, whereTo: String?, during activity: String) {
        reportSpoolError(error)
        let failure = SystemError(error, otherwise: fallback)
        if let whereTo { audit.append(.spoolError(at: clock.now(), file: file, error: failure, whereTo: whereTo)) }
        stopForSpoolFailure("\(failure.brief) while \(activity)")
    }

    /// The intake could not move a claim back to incoming/, try after try (`keepClaimed`):
    /// the process stops (exit 74), and the claim goes back at the stop if it can.
    func stopForStuckClaim(_ name: String, _ error: Error) {
        stopForSpoolError(error, fallback: SystemError("rename", path: name, code: EIO), file: name,
                          whereTo: "a claim could not be put back in incoming/; this process stops",
                          during: "putting a claim back")
    }

    /// Stops taking work because the spool fails: claims go back, the run ends with exit 74.
    func stopForSpoolFailure(_ why: String) {
        if spoolFailure == nil { spoolFailure = why }
        perform(core.stopRequested(now: clock.now()))
        intake.setCredit(0)
    }

    /// Moves a claim back to `folder`, as `preferred` when given (a retry goes back under the
    /// name its state was saved as); one that cannot be moved is kept in `strandedClaims` and
    /// tried again at the end.
    @discardableResult
    func returnClaim(_ name: String, to folder: SpoolFolder, as preferred: String? = nil) -> Bool {
        do {
            let target = try area.moveOut(name, to: folder, as: preferred)
            if folder == .deferred { core.deferralFiled(as: target, due: clock.now()) }
            return true
        } catch {
            reportSpoolError(error)
            strandedClaims.append((name, folder, preferred))
            return false
        }
    }

    /// Commits the pass's audit lines in the background; the moves they describe are made only
    /// once the lines are on disk: the committer thread hands them to the filing thread.
    func commit() {
        if let failure = audit.failure {
            auditFailure = failure
            return
        }
        guard !moves.isEmpty || audit.hasUncommitted else { return }
        audit.commit(handing: moves.take())
    }

    /// An outcome folder's fsync failed after jobs were moved into it (reported by the filing
    /// thread): whether those moves are on disk is unknown, and no later fsync can tell (the
    /// data may be gone, Rebello et al., ATC'20). Their lines are on disk; the process stops
    /// (exit 74) with its other claims put back. A move that is lost all the same shows up in
    /// the claim folder again and is recovered: sent once more, never lost.
    func outcomeFolderSyncFailed(_ failure: SystemError) {
        reportSpoolError(failure)
        audit.append(.spoolError(at: clock.now(), file: nil, error: failure,
                                 whereTo: "the jobs just moved into \(failure.path.split(separator: "/").last ?? "")/ may not be on disk; this process stops"))
        stopForSpoolFailure("\(failure.brief) on an outcome folder")
    }

    /// Takes a failed folder fsync from the filing thread, if there was one.
    func checkOutcomeFolderSyncs() {
        if let failure = filingWorker.takeSyncFailure() { outcomeFolderSyncFailed(failure) }
    }

    /// Returns a claim to its folder (at a stop, or after the audit log failed).
    func putBack(_ name: String, to folder: SpoolFolder, as preferred: String? = nil) {
        if returnClaim(name, to: folder, as: preferred) { core.claimPutBack() }
    }

    /// Claims that could not be returned during the run, tried once more at its end; true
    /// when none is left in this process's claim folder.
    func returnStrandedClaims() -> Bool {
        let stranded = strandedClaims
        strandedClaims.removeAll()
        for (name, folder, preferred) in stranded { putBack(name, to: folder, as: preferred) }
        return strandedClaims.isEmpty
    }

    /// Outcomes that never reached the audit log: the jobs go back as if never tried, and the
    /// sidecars written for them go too.
    func rollBackUnrecordedOutcomes() {
        for move in audit.takeUnhanded() + moves.take() {
            if move.sidecar != nil { try? FileSystem.remove(spool.path(move.to, "\(move.target).reason")) }
            putBack(move.name, to: .incoming)
        }
    }

    /// A recovery pass, then an attempt to take the lanes if they are free. The whole of it
    /// holds a lock on `active/` itself, so passes of processes sharing the spool take
    /// turns: a process never takes the lanes while another is still putting the dead
    /// owner's claims back. While another process holds it, this pass is skipped rather
    /// than waited for (the loop thread never blocks on another process): that process is
    /// recovering now, and the next pass comes within `recoveryInterval`.
    func recoverOrphans() {
        let turn: FileLock?
        do {
            turn = try FileLock.tryOnFolder(spool.path(.active))
        } catch {
            reportSpoolError(error)
            return
        }
        guard let turn else { return }
        withExtendedLifetime(turn) {
            putBackOrphanedClaims()
            if !laneOwnership.isOwner { takeLanesIfFree() }
        }
    }

    /// Puts back the jobs of claim folders whose process is gone, each with a `recovered`
    /// line. Returns false when the pass failed.
    @discardableResult
    func putBackOrphanedClaims() -> Bool {
        let recovery = OrphanRecovery(spool: spool, ownArea: area.name)
        do {
            let recovered = try recovery.run { found in
                for job in found {
                    var record = AuditRecord(.recovered, at: clock.now())
                    record.job = SpoolMover.originalStem(of: job.name)
                    record.file = job.name
                    record.message = "claimed by a process that is gone; put back in incoming/"
                    audit.append(record)
                }
                try audit.flush()
            }
            core.orphansRecovered(recovered.count)
            if !recovered.isEmpty { intake.requestPass() }
            return true
        } catch {
            reportSpoolError(error)
            return false
        }
    }

    /// Adds jobs in `deferred/` that the schedule does not know yet (at start, and jobs another
    /// process deferred), due at the time their state file says.
    func scanDeferredFolder() {
        guard let stream = try? DirectoryStream(spool.path(.deferred)) else { return }
        let now = clock.now()
        var found: [(name: String, due: Double)] = []
        while let name = stream.next() {
            guard Spool.isJobName(name), !core.isScheduled(name), !unreadableRetries.contains(name) else { continue }
            // A state file that cannot be read now: due at once; the claim meets the error again
            // and puts the job back without a verdict.
            let state = (try? stateStore.load(name, inode: FileSystem.inode(of: spool.path(.deferred, name)))) ?? nil
            if let lane = state?.lane {
                // A lane's retry holds its lane; only the lane owner takes it (contract 14).
                guard laneOwnership.isOwner else { continue }
                core.laneRetryFound(name, due: state?.nextAttemptAt ?? now, in: lane)
            }
            found.append((name, state?.nextAttemptAt ?? now))
        }
        core.deferredFound(found)
    }
}
