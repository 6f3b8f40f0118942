/// What happens to a job after an attempt (contract section 7).
public enum Outcome: Sendable, Equatable {
    case delivered(status: Int)
    /// Try again `delayMs` from now.
    case retry(delayMs: Int)
    case failed(FailureReason)
}

/// The retry rules: which results are worth another attempt, how long to wait, and when to
/// give up. Pure: the time and the jitter are passed in, so every schedule is testable exactly.
public struct RetryPolicy: Sendable {
    public let settings: RetrySettings
    public let jitter: any JitterSource

    public init(settings: RetrySettings, jitter: any JitterSource = RandomJitter()) {
        self.settings = settings
        self.jitter = jitter
    }

    /// Statuses that mean "try again later".
    public static let retryableStatuses: Set<Int> = [408, 425, 429, 500, 502, 503, 504]

    /// The attempt limit for a job: its own `maxAttempts` may lower the configured one only.
    public func attemptLimit(for job: Job) -> Int {
        min(job.maxAttempts ?? settings.maxAttempts, settings.maxAttempts)
    }

    /// The moment after which the job may not be attempted: the earlier of `notAfter` and
    /// `maxAgeSeconds` after its first claim.
    public func deadline(for job: Job, firstClaimedAt: Double) -> Double {
        let ageLimit = firstClaimedAt + Double(settings.maxAgeSeconds)
        guard let notAfter = job.notAfter else { return ageLimit }
        return min(notAfter, ageLimit)
    }

    /// Judges attempt number `attempt` (1-based) of `job`, which ended with `result` at `now`.
    public func outcome(of result: AttemptResult, attempt: Int, job: Job, firstClaimedAt: Double, now: Double) -> Outcome {
        var retryAfterMs: Int?
        switch result {
        case .response(let status, let retryAfter):
            if (200...299).contains(status) { return .delivered(status: status) }
            guard Self.retryableStatuses.contains(status) else { return .failed(.httpStatus) }
            retryAfterMs = retryAfter.flatMap { RetryAfter.delayMs($0, now: now) }
        case .transportError:
            break
        }
        guard attempt < attemptLimit(for: job) else { return .failed(.retriesExhausted) }
        let delay = retryAfterMs.map { min($0, settings.maxDelayMs) } ?? backoffMs(afterAttempt: attempt)
        // A retry that could only happen after the deadline ends the job now rather than
        // holding it in deferred/ just to expire it later.
        if now + Double(delay) / 1000 > deadline(for: job, firstClaimedAt: firstClaimedAt) {
            return .failed(.expired)
        }
        return .retry(delayMs: delay)
    }

    /// `baseDelayMs × 2^(attempt−1)`, capped at `maxDelayMs`, then ±20 % jitter (the jittered
    /// value is capped again so `maxDelayMs` is never exceeded).
    public func backoffMs(afterAttempt attempt: Int) -> Int {
        let exponent = min(max(attempt - 1, 0), 40)
        let raw = Double(settings.baseDelayMs) * Double(1 << exponent)
        let capped = min(raw, Double(settings.maxDelayMs))
        let jittered = capped * jitter.factor()
        return max(0, min(Int(jittered.rounded()), settings.maxDelayMs))
    }
}
