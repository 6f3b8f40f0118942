/// Turns a decision about a job into what is written about it: the audit line, the sidecar
/// and the operator's message. Pure; the time is passed in.
struct OutcomeRecords {
    let policy: RetryPolicy

    /// The common fields of a job's line.
    func record(_ event: AuditEvent, _ claimed: ClaimedJob, at now: Double) -> AuditRecord {
        AuditRecord(event, at: now, file: claimed.name, job: claimed.job,
                    attempt: event == .accepted || event == .refused ? nil : claimed.attempts)
    }

    /// The gate said no: `refused/`, with the reason.
    func refusal(_ claimed: ClaimedJob, _ reason: RefusalReason, _ message: String, at now: Double) -> Filing {
        var record = record(.refused, claimed, at: now)
        record.reason = reason.rawValue
        record.message = message
        let sidecar = ReasonSidecar(reason: reason.rawValue, message: message, at: now, job: claimed.job.id,
                                    clientId: record.clientId, attempts: claimed.attempts)
        return Filing(name: claimed.name, folder: .refused, record: record, sidecar: sidecar, clearsState: claimed.hasSavedState,
                      bytes: claimed.bytes, origin: claimed.origin)
    }

    /// Not a valid job: `corrupt/`, with the reason.
    func corruption(name: String, _ reason: CorruptReason, _ message: String, at now: Double) -> Filing {
        var record = AuditRecord(.corrupt, at: now)
        record.job = SpoolMover.originalStem(of: name)
        record.file = name
        record.reason = reason.rawValue
        record.message = message
        let sidecar = ReasonSidecar(reason: reason.rawValue, message: message, at: now)
        return Filing(name: name, folder: .corrupt, record: record, sidecar: sidecar, clearsState: false)
    }

    /// A permanent failure: `failed/`, with the reason; `record` carries the attempt's fields.
    func failure(_ claimed: ClaimedJob, _ reason: FailureReason, _ message: String, record: AuditRecord) -> Filing {
        var record = record
        record.event = .failed
        record.reason = reason.rawValue
        record.message = message
        let sidecar = ReasonSidecar(reason: reason.rawValue, message: message, at: record.at, job: claimed.job.id,
                                    clientId: record.clientId, attempts: claimed.attempts, status: record.status, error: record.error)
        return Filing(name: claimed.name, folder: .failed, record: record, sidecar: sidecar, clearsState: claimed.hasSavedState,
                      bytes: claimed.bytes, origin: claimed.origin)
    }

    /// The deadline passed before the job could be sent again.
    func expiry(_ claimed: ClaimedJob, at now: Double) -> Filing {
        failure(claimed, .expired, "the job's deadline (notAfter or retry.maxAgeSeconds) passed before it could be delivered",
                record: record(.failed, claimed, at: now))
    }

    /// libcurl would not take the transfer: `failed/`, counted as an attempt.
    func setupFailure(_ claimed: ClaimedJob, error: String, at now: Double) -> Filing {
        var record = record(.failed, claimed, at: now)
        record.error = error
        return failure(claimed, .transferSetup, "the transfer could not be set up: \(error)", record: record)
    }

    /// A job to a destination that is down, set aside until `until` without an attempt
    /// (contract 13): its attempt count and age unchanged.
    func setAside(_ claimed: ClaimedJob, until: Double, at now: Double) -> Deferral {
        var record = record(.deferred, claimed, at: now)
        record.reason = "destination_down"
        record.message = "\(Destination(claimed.job.url)) is down; not attempted before the next probe"
        record.nextAttemptAt = until
        let state = JobState(attempts: claimed.attempts, firstClaimedAt: claimed.firstClaimedAt, nextAttemptAt: until, inode: claimed.inode,
                             lane: claimed.lane)
        return Deferral(name: claimed.name, state: state, record: record, bytes: claimed.bytes, origin: claimed.origin)
    }

    /// A job of an OAuth client whose token endpoint gave no token (contract 12): deferred
    /// until `until` without an attempt (nothing went to its target), `error` "auth: …".
    func tokenUnavailable(_ claimed: ClaimedJob, until: Double, failure: TokenFailure, at now: Double) -> Deferral {
        var record = record(.deferred, claimed, at: now)
        record.error = failure.jobError
        record.oauthError = failure.oauthErrorCode
        record.message = "no access token from the client's token endpoint; not sent, no attempt counted"
        record.nextAttemptAt = until
        let state = JobState(attempts: claimed.attempts, firstClaimedAt: claimed.firstClaimedAt, nextAttemptAt: until, inode: claimed.inode,
                             lane: claimed.lane)
        return Deferral(name: claimed.name, state: state, record: record, bytes: claimed.bytes, origin: claimed.origin)
    }

    /// What an attempt's end means for the job (its `attempts` already counts the attempt):
    /// a filing for delivered or failed, or a deferral until the retry is due.
    func attemptEnded(_ claimed: ClaimedJob, result: AttemptResult, milliseconds: Int, sends: Int = 1,
                      ending: ResponseEnding? = nil, at now: Double) -> AttemptConsequence {
        let outcome = policy.outcome(of: result, attempt: claimed.attempts, job: claimed.job,
                                     firstClaimedAt: claimed.firstClaimedAt, now: now)
        var record = record(.delivered, claimed, at: now)
        record.ms = milliseconds
        record.bytes = claimed.job.body?.count ?? 0
        record.bodySha256 = claimed.job.bodySha256
        switch result {
        case .response(let code, _): record.status = code
        case .transportError(let error): record.error = error.description
        }
        if record.error == nil { record.error = ending?.description }
        record.sends = sends > 1 ? sends : nil
        if claimed.lateInLane { record.message = Self.lateNote }
        switch outcome {
        case .delivered:
            return .file(Filing(name: claimed.name, folder: .delivered, record: record, sidecar: nil, clearsState: claimed.hasSavedState,
                                bytes: claimed.bytes, origin: claimed.origin))
        case .retry(let delayMs):
            let due = now + Double(delayMs) / 1000
            record.event = .deferred
            record.nextAttemptAt = due
            let state = JobState(attempts: claimed.attempts, firstClaimedAt: claimed.firstClaimedAt, nextAttemptAt: due, inode: claimed.inode,
                                 lane: claimed.lane)
            return .defer(Deferral(name: claimed.name, state: state, record: record, bytes: claimed.bytes, origin: claimed.origin))
        case .failed(let reason):
            let what = record.status.map { "HTTP \($0)" } ?? record.error ?? "no response"
            let message: String
            switch reason {
            case .httpStatus: message = "the server answered \(what), which is not retried"
            case .retriesExhausted: message = "attempt \(claimed.attempts) of \(policy.attemptLimit(for: claimed.job)) ended with \(what)"
            case .expired: message = "attempt \(claimed.attempts) ended with \(what) and the next retry would fall after the job's deadline"
            case .transferSetup: message = what
            }
            return .file(failure(claimed, reason, message, record: record))
        }
    }

    /// The note on the outcome line of a job sent after later jobs of its lane (contract 14).
    static let lateNote = "sent late: later jobs of its lane (same clientId and orderingKey) had already been sent"

    /// A job of a blocked lane on its way to hold/ (contract 14), its line naming the job at fault.
    func laneHold(_ claimed: ClaimedJob, byJob: String, at now: Double) -> Filing {
        var record = record(.laneBlocked, claimed, at: now)
        Self.name(record: &record, blockedBy: byJob)
        return Filing(name: claimed.name, folder: .hold, record: record, sidecar: nil, clearsState: false, bytes: claimed.bytes, origin: claimed.origin)
    }

    /// Names the job at fault on a held job's `lane_blocked` line.
    static func name(record: inout AuditRecord, blockedBy byJob: String) {
        record.blockedBy = byJob
        record.message = "its lane is blocked by \(byJob), which ended in failed/ or refused/; held until that job is requeued or purged and this one released"
    }

    /// The line that says a lane is now blocked by `claimed` (the job at fault).
    func laneBlocked(by claimed: ClaimedJob, at now: Double) -> AuditRecord {
        var record = record(.laneBlocked, claimed, at: now)
        record.blockedBy = claimed.name
        record.message = "this job ended in failed/ or refused/: later jobs of its lane go to hold/ until it is requeued or purged"
        return record
    }

    /// The two things an attempt's end can lead to.
    enum AttemptConsequence {
        case file(Filing)
        case `defer`(Deferral)
    }
}
