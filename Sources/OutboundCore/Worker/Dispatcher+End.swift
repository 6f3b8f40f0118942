import Glibc

/// The end of a run or drain in the shell: transfers aborted, the last lines made durable (or
/// the outcomes they could not record rolled back), the outcomes filed, unfinished claims put
/// back, `stopped` written and the claim area dissolved.
extension Dispatcher {
    /// Ends the loop (the mode's end, a signal's grace, or a failure) and returns the summary.
    func finishRun() -> DispatchSummary {
        intake.setCredit(0)
        let aborted = engine.abortAll()
        for token in aborted where core.isTokenRequest(token) { perform(core.tokenRequestAbandoned(token: token, now: clock.now())) }
        perform(core.ending(abortedTokens: aborted))
        // Jobs being set aside: those whose state is being saved get their lines now, while
        // lines can still be written; those not begun go back unrecorded, so a long queue of
        // them (a partner answering 503 to a backlog) does not hold the stop up.
        for deferral in filingWorker.takeStatesNotStarted() {
            core.deferralNotSaved(deferral)
            putBack(deferral.name, to: deferral.origin)
        }
        filingWorker.waitForStates()
        recordDeferralProgress()
        commit()
        if auditFailure == nil {
            do { try audit.flush() } catch { auditFailure = "\(error)" }
        }
        if let auditFailure {
            ending = .auditFailure(auditFailure)
            rollBackUnrecordedOutcomes()
        }
        let unclaimable = intake.unclaimableCount
            + unreadableRetries.filter { FileSystem.identity(atPath: spool.path(.deferred, $0)) != nil }.count
        // What the committer handed on is filed before the end; claims the intake thread made
        // that nobody took go back.
        let unfiled = filingWorker.stop()
        if unfiled > 0 && spoolFailure == nil {
            spoolFailure = "\(unfiled) job(s) whose outcome line is on disk could not be moved into their folder and are still claimed"
        }
        // Moves into deferred/ made (or failed) during the stop; a failed one is tried once
        // more below, with the stranded claims.
        recordDeferralProgress()
        if auditFailure == nil { checkOutcomeFolderSyncs() }
        for name in intake.stop() { putBack(name, to: .incoming) }
        if !returnStrandedClaims() && spoolFailure == nil {
            spoolFailure = "\(strandedClaims.count) claim(s) could not be moved back out of the claim folder"
        }
        if let spoolFailure, auditFailure == nil { ending = .spoolFailure(spoolFailure) }
        let stillDeferred = (try? DirectoryStream.names(in: spool.path(.deferred)).filter(Spool.isJobName).count) ?? 0
        core.ended(ending, unclaimable: unclaimable, stillDeferred: stillDeferred)
        if auditFailure == nil {
            var stopped = AuditRecord(.stopped, at: clock.now())
            stopped.pid = Int(getpid())
            stopped.version = RequestBuilder.version
            stopped.count = core.summary.requeued
            stopped.message = core.summary.line
            audit.append(stopped)
            try? audit.flush()
        }
        audit.stop()
        downDestinations.remove()
        laneOwnership.release()
        try? FileSystem.syncDirectory(spool.path(.incoming))
        area.dissolve()
        if progress != nil { reportProgress(force: true) }
        return core.summary
    }
}
