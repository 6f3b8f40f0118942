/// The spool side of the shell: filing, deferring and putting back jobs, committing the audit
/// lines that describe those moves before the moves are made, recovery and the deferred/ scan.
extension Dispatcher {
    /// Queues a final move: sidecar written now, audit line queued, rename after the commit.
    func file(_ filing: Filing) {
        let folderPath = spool.path(filing.folder)
        do {
            // A sidecar needs its final name now; otherwise the no-replace rename at commit
            // finds out about a clash by itself, which saves two lookups per job.
            let target = filing.sidecar == nil ? filing.name : try SpoolMover.freeName(for: filing.name, in: folderPath)
            try filing.sidecar?.write(beside: target, in: folderPath)
            audit.append(filing.record)
            moves.add(FileMove(name: filing.name, to: filing.folder, target: target, sidecar: filing.sidecar,
                               clearsState: filing.clearsState))
        } catch {
            reportSpoolError(error)
        }
    }

    /// Moves a job to deferred/ with its state saved under the name it will have there.
    func deferJob(_ deferral: Deferral) {
        do {
            let target = try SpoolMover.freeName(for: deferral.name, in: spool.path(.deferred))
            try stateStore.save(deferral.state, for: target)
            moves.stateChanged = true
            audit.append(deferral.record)
            moves.add(FileMove(name: deferral.name, to: .deferred, target: target, sidecar: nil, clearsState: false))
            core.deferralFiled(as: target, due: deferral.state.nextAttemptAt, lane: deferral.state.lane)
        } catch {
            reportSpoolError(error)
        }
    }

    /// Commits the pass's audit lines; the moves they describe are made only once the lines
    /// are on disk. Usually in the background: the committer thread hands the moves to the
    /// filing thread. A batch that needs it (`MoveBatch.needsSynchronousCommit`) is committed
    /// here and now, and its moves into deferred/ made at once.
    func commit() {
        if let failure = audit.failure {
            auditFailure = failure
            return
        }
        guard !moves.isEmpty || audit.hasUncommitted else { return }
        guard moves.needsSynchronousCommit else {
            audit.commit(handing: moves.take())
            return
        }
        do {
            if moves.stateChanged { try directories.sync(stateStore.directory) }
            try audit.flush()
        } catch {
            auditFailure = "\(error)"
            return
        }
        let batch = moves.take()
        filingWorker.file(batch.filter { $0.to != .deferred })
        spoolFiler.perform(batch.filter { $0.to == .deferred }, directories: directories)
    }

    /// Returns a claim to its folder (at a stop, or after the audit log failed).
    func putBack(_ name: String, to folder: SpoolFolder) {
        do {
            let target = try SpoolMover.move(area.path(of: name), named: name, into: spool.path(folder))
            if folder == .deferred { core.deferralFiled(as: target, due: clock.now()) }
            core.claimPutBack()
        } catch {
            reportSpoolError(error)
        }
    }

    /// Outcomes that never reached the audit log: the jobs go back as if never tried, and the
    /// sidecars written for them go too.
    func rollBackUnrecordedOutcomes() {
        for move in audit.takeUnhanded() + moves.take() {
            if move.sidecar != nil { try? FileSystem.remove(spool.path(move.to, "\(move.target).reason")) }
            putBack(move.name, to: .incoming)
        }
    }

    func recoverOrphans() {
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
        } catch {
            reportSpoolError(error)
        }
        if !laneOwnership.isOwner { takeLanesIfFree() }
    }

    /// Adds jobs in `deferred/` that the schedule does not know yet (at start, and jobs another
    /// process deferred), due at the time their state file says.
    func scanDeferredFolder() {
        guard let stream = try? DirectoryStream(spool.path(.deferred)) else { return }
        let now = clock.now()
        var found: [(name: String, due: Double)] = []
        while let name = stream.next() {
            guard Spool.isJobName(name), !core.isScheduled(name) else { continue }
            let state = stateStore.load(name, inode: FileSystem.inode(of: spool.path(.deferred, name)))
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
