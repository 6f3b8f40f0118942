/// Retries in the shell: due jobs claimed back from `deferred/`, read with their state and
/// handed to the core; a retry that cannot be read goes back to `deferred/` with no verdict.
extension Dispatcher {
    /// Claims the retries that are due, within the window beside the intake's reservation.
    func claimDueRetries() {
        let now = clock.now()
        for name in core.retriesToClaim(now: now, reservedByIntake: intake.reservedCount) {
            // Room in the byte budget first, by the file's size, so a retry is never claimed
            // only to wait for memory.
            let size = FileSystem.size(of: spool.path(.deferred, name)) ?? 0
            guard intake.reserveBytes(size) else {
                core.retryPutOff(name, now: now)
                continue
            }
            do {
                switch try area.claim(name, from: .deferred) {
                case .claimed: break
                case .gone:
                    intake.releaseBytes(size)
                    // Still in our claim area, under `name` or the name it had before a
                    // namesake in deferred/ gave it a `~N`: its move there is not done yet.
                    if area.holds(name) || area.holds(SpoolMover.originalStem(of: name) + ".json") {
                        core.retryNotYetInDeferred(name, now: now)
                    } else {
                        perform(core.retryGone(name, now: now))
                    }
                    continue
                case .nameInUse:
                    intake.releaseBytes(size)
                    core.retryPutOff(name, now: now)
                    continue
                }
            } catch {
                intake.releaseBytes(size)
                reportSpoolError(error)
                core.retryPutOff(name, now: now)
                continue
            }
            switch JobFileReader.read(name, in: area.folder(for: name), decoder: decoder, limit: settings.maxJobBytes) {
            case .job(let job, let inode, _):
                do {
                    let state = try stateStore.load(name, inode: inode)
                    retryReadFailures[name] = nil
                    perform(core.retryClaimed(name, job: job, inode: inode, bytes: size, state: state, now: now))
                } catch {
                    intake.releaseBytes(size)
                    returnUnreadableRetry(name, error: error, now: now)
                }
            case .corrupt(let reason, let message, _):
                intake.releaseBytes(size)
                perform(core.corruptFound(name, reason, message, now: now))
            case .unreadable(let error):
                intake.releaseBytes(size)
                returnUnreadableRetry(name, error: error, now: now)
            case .waitForBytes:
                preconditionFailure("a retry's bytes are reserved before it is read")
            }
        }
    }

    /// No verdict on a transient failure to read a retry or its state: back to deferred/,
    /// due again in a second, with a `spool_error` line.
    private func returnUnreadableRetry(_ name: String, error: SystemError, now: Double) {
        let failures = (retryReadFailures.removeValue(forKey: name) ?? 0) + 1
        do {
            let target = try area.moveOut(name, to: .deferred)
            retryReadFailures[target] = failures
            var whereTo = "put back in deferred/ to be read again"
            if failures < IntakeWorker.unreadableLimit {
                core.deferralFiled(as: target, due: now + 1)
            } else if case .drain = core.mode {
                // A fault that persists: a drain leaves it for a later process and ends (exit 74).
                unreadableRetries.insert(target)
                whereTo = "left in deferred/ for a later process: it could not be read \(failures) times in a row"
            } else {
                core.deferralFiled(as: target, due: now + 30)
                whereTo = "put back in deferred/ to be read again in 30 s"
            }
            audit.append(.spoolError(at: now, file: name, error: error, whereTo: whereTo))
        } catch {
            reportSpoolError(error)
            perform([.putBack(name: name, to: .deferred, bytes: 0)])
        }
    }
}
