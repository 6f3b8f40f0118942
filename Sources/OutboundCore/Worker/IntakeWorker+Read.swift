/// Reading a claimed file in the intake: decoded, its retry state loaded, checked at the gate
/// and its `accepted` line queued, or put back without a verdict. Runs on the intake thread.
extension IntakeWorker {
    /// Reads and decodes one claimed file (unless read already: `early`); nil when it was put
    /// back (unreadable, too young, for a stalled destination, or a lane job named after a
    /// file left unread), or waits for room in the byte budget.
    func read(_ name: String, decoder: JobDecoder, gate: Gate, gateGeneration: Int, limit: Int,
              early: LaneScreen.EarlyRead? = nil, stalled: Set<String> = []) -> IntakeResult? {
        // Once one file waits for room, the rest of the batch waits behind it (claim order).
        if early == nil && !waitingForBytes.isEmpty {
            waitingForBytes.append(name)
            return nil
        }
        var reserved = early?.bytes ?? 0
        let outcome = early.map { JobFileReader.Outcome.job($0.job, inode: $0.inode, bytes: $0.bytes) }
            ?? JobFileReader.read(name, in: area.folder(for: name), decoder: decoder, limit: limit) { size in
                guard reserveBytes(size) else { return false }
                reserved = size
                return true
            }
        switch outcome {
        case .waitForBytes:
            waitingForBytes.append(name)
            return nil
        case .job(let job, let inode, let bytes):
            let state: JobState?
            do {
                state = stateIndex.mayHaveState(name) ? try stateStore.load(name, inode: inode) : nil
            } catch {
                // Its attempts cannot be known now (EIO, EMFILE...): it must not start again
                // from attempt 1. No verdict: back to incoming/, read again a second later.
                if reserved > 0 { releaseBytes(reserved) }
                return putBackUnreadable(name, error: error)
            }
            readFailures[name] = nil
            failedMovesBack[name] = nil
            if job.orderingKey != nil, let earlier = unreadFileBefore(name), waitBehindUnread(name, earlier: earlier) {
                if reserved > 0 { releaseBytes(reserved) }
                return nil
            }
            var pass: GatePass?
            var acceptedLine = 0
            if case .allowed(let client) = gate.check(job) {
                // A job the gate refuses is refused at once, whatever its destination.
                if !stalled.isEmpty, leaveForStalledDestination(name, job: job, stalled: stalled) {
                    if reserved > 0 { releaseBytes(reserved) }
                    return nil
                }
                pass = GatePass(generation: gateGeneration, client: client)
                acceptedLine = audit.append(.accepted(at: clock.now(), file: name, job: job))
            }
            return .job(name: name, job: job, inode: inode, bytes: bytes, state: state, pass: pass, acceptedLine: acceptedLine)
        case .unreadable(let error):
            if reserved > 0 { releaseBytes(reserved) }
            return putBackUnreadable(name, error: error)
        case .corrupt(let reason, let message, let modified):
            // Nothing of a file that is not a job stays in memory.
            if reserved > 0 { releaseBytes(reserved) }
            if let modified, JobFileReader.mayStillBeWritten(modified: modified, now: clock.now()) { return putBackYoung(name, modified: modified) }
            return .corrupt(name: name, reason: reason, message: message)
        }
    }
}
