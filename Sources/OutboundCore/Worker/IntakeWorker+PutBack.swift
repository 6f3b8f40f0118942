/// Claims the intake gives back without a verdict (files not readable for now, files still
/// young enough to be being written) and claims that waited for room in the byte budget.
/// Runs on the intake thread.
extension IntakeWorker {
    /// Read failures in a row after which a file is read again only every few seconds and
    /// no longer holds a drain open (the drain ends, exit 74, the job left in incoming/).
    static let unreadableLimit = 3

    /// A claimed file (or its retry state) that could not be read for a reason that may pass
    /// (EMFILE, ENOMEM, EIO): no verdict. It goes back to `incoming/` to be read again a
    /// second later, with a `spool_error` line (`leaveUnread`); if even the move fails it stays
    /// claimed (`keepClaimed`). After `unreadableLimit` read failures in a row it counts as
    /// unclaimable, and after as many failed moves the process stops: a fault that persists
    /// ends a drain instead of keeping it going forever.
    func putBackUnreadable(_ name: String, error: SystemError) -> IntakeResult? {
        let failures = readFailures.removeValue(forKey: name) ?? 0
        do {
            let target = try moveBack(name)
            readFailures[target] = failures
            leaveUnread(target, error: error, whereTo: "put back in incoming/ to be read again", named: name)
        } catch {
            readFailures[name] = failures + 1
            keepClaimed(name, moveFailed: error, "the job stays claimed and is read again in a second")
        }
        return nil
    }

    /// A file in incoming/ that could not be read (`name` in the audit line: `named`, if it
    /// was claimed under another): read again a second later, with a `spool_error` line;
    /// after `unreadableLimit` failures in a row, only every few seconds, and unclaimable.
    func leaveUnread(_ name: String, error: SystemError, whereTo: String, named: String? = nil) {
        let failures = (readFailures[name] ?? 0) + 1
        readFailures[name] = failures
        unreadNames.insert(name)
        if failures >= Self.unreadableLimit {
            unclaimable.insert(name)
            laterFiles[name] = clock.now() + Self.failedClaimRetrySeconds
        } else {
            laterFiles[name] = clock.now() + 1.0
        }
        audit.append(.spoolError(at: clock.now(), file: named ?? name, error: error, whereTo: whereTo))
    }

    /// A file in incoming/ that does not decode yet but was written less than a second ago:
    /// looked at again when a second old.
    func leaveYoung(_ name: String, modified: Double) {
        laterFiles[name] = modified + JobFileReader.writingGraceSeconds
        unreadNames.insert(name)
    }

    /// A file that does not decode yet but was written less than a second ago may still be
    /// being written: it goes back to `incoming/` and is looked at again when a second old.
    func putBackYoung(_ name: String, modified: Double) -> IntakeResult? {
        do {
            leaveYoung(try moveBack(name), modified: modified)
        } catch {
            keepClaimed(name, moveFailed: error, "the job stays claimed and is read again in a second")
        }
        return nil
    }

    /// Moves a claim back to incoming/ without a verdict; returns the name it has there. Its
    /// failed moves so far (`keepClaimed`) are forgotten: the row is broken.
    func moveBack(_ name: String) throws -> String {
        let target = try area.moveOut(name, to: .incoming)
        failedMovesBack[name] = nil
        return target
    }

    /// A claim that could not be moved back to incoming/: it waits with the claims waiting
    /// for room, read again (and moved, if it still must go back) in a second, not at once
    /// (its own bytes' release must not make a failing move spin), and goes back at the stop
    /// at the latest: never left in the claim folder. Nothing new is claimed meanwhile, so a
    /// move that fails `unreadableLimit` times in a row stops the process (exit 74) rather
    /// than keep the intake waiting for ever.
    func keepClaimed(_ name: String, moveFailed error: Error, _ whatNow: String) {
        FileSystem.writeStandardError("outbound: spool error: \(error); \(whatNow)\n")
        waitingForBytes.append(name)
        moveRetryAt = clock.now() + 1
        let failures = (failedMovesBack[name] ?? 0) + 1
        failedMovesBack[name] = failures
        if failures >= Self.unreadableLimit {
            reportStuckClaim(name, error)
        }
    }

    /// The earliest file left unread that sorts before the lane job `name`, if any; while the
    /// last listing of incoming/ was cut short, `listingCutShort` (the files it did not see
    /// may sort before any name). A name no longer in incoming/ (another process took it, or
    /// its next look was dropped at a takeover) is forgotten here, so it cannot hold the
    /// lanes forever.
    func unreadFileBefore(_ name: String) -> String? {
        if queue.lastListingFailed { return Self.listingCutShort }
        while let earlier = unreadNames.earliest(before: name) {
            if FileSystem.identity(atPath: spool.path(.incoming, earlier)) != nil { return earlier }
            unreadNames.remove(earlier)
        }
        return nil
    }

    /// What a lane job waits behind while the last listing was cut short: no file's name.
    static let listingCutShort = ""

    /// The earliest file left unread (`listingCutShort` while the last listing was cut
    /// short), as published to the loop for the core's lanes. Names of files gone since are
    /// forgotten only by `unreadFileBefore`: one may still be here, and cost a lane's next
    /// job a second.
    var earliestUnreadName: String? { queue.lastListingFailed ? Self.listingCutShort : unreadNames.earliest }

    /// A lane job named after `earlier`, a file left unread in incoming/: it may be an earlier
    /// job of the same lane, so this one goes back to incoming/ before its `accepted` line and
    /// is looked at again together with `earlier` (unclaimable with it, so a drain can end
    /// while the fault lasts). Back there it is unread too: lane jobs named after it wait
    /// behind it, even once `earlier` is read. When the move fails it stays claimed
    /// (`keepClaimed`): sent now, it could go ahead of an earlier job of its lane.
    func waitBehindUnread(_ name: String, earlier: String) -> Bool {
        let target: String
        do {
            target = try moveBack(name)
        } catch {
            keepClaimed(name, moveFailed: error, "the lane job stays claimed behind an earlier file and is read again in a second")
            return true
        }
        laterFiles[target] = laterFiles[earlier] ?? clock.now() + 1.0
        unreadNames.insert(target)
        let faultPersists = earlier == Self.listingCutShort ? listingFailuresInARow > Self.listingRetries : unclaimable.contains(earlier)
        if faultPersists { unclaimable.insert(target) }
        return true
    }

    /// Files that waited for room in the byte budget, read in claim order while it has room.
    func readWaiting(upTo room: Int, decoder: JobDecoder, gate: Gate, gateGeneration: Int, limit: Int) -> [IntakeResult] {
        var found: [IntakeResult] = []
        let waiting = waitingForBytes
        waitingForBytes.removeAll()
        for (index, name) in waiting.enumerated() {
            if found.count >= room || !waitingForBytes.isEmpty {
                waitingForBytes.append(contentsOf: waiting[index...])
                break
            }
            if let result = read(name, decoder: decoder, gate: gate, gateGeneration: gateGeneration, limit: limit) { found.append(result) }
        }
        if !found.isEmpty { audit.commit(handing: []) }
        return found
    }
}
