/// `production` or `non-production`: which of a partner's client IDs are valid here.
public enum Environment: String, Sendable, CaseIterable {
    case production
    case nonProduction = "non-production"
}

/// The dispatcher's settings, `Config/outbound.json` (contract section 5), with defaults.
public struct Settings: Sendable, Equatable {
    public var environment: Environment
    public var clientIdHeader = "Epic-Client-ID"
    /// nil: no idempotency header is sent.
    public var idempotencyHeader: String? = "Idempotency-Key"
    public var concurrency = 64
    public var perHostConcurrency = 16
    public var connectTimeoutMs = 5000
    public var timeoutMs = 30000
    public var retry = RetrySettings()
    /// Absolute path of the CA bundle to trust instead of the system's.
    public var caFile: String?
    /// Absolute path of the audit log.
    public var auditLogPath: String
    public var maxJobBytes = 10 * 1024 * 1024
    /// The job bytes a process may hold in memory at once, claimed and read, waiting or in
    /// flight (`ByteBudget`); one job larger than this still goes, alone.
    public var maxClaimedBytes = 268_435_456
    /// The per-destination circuit breaker (contract section 13).
    public var circuit = CircuitSettings()
    /// What a failed or refused job does to the later jobs of its ordered lane (section 14).
    public var laneOnFailure = LaneFailurePolicy.block

    public init(environment: Environment, auditLogPath: String) {
        self.environment = environment
        self.auditLogPath = auditLogPath
    }
}

/// The `circuit` object of `outbound.json` (contract section 13).
public struct CircuitSettings: Sendable, Equatable {
    /// Consecutive connect, DNS, TLS-handshake or timeout failures that take a destination
    /// down; 0 turns the circuit breaker off.
    public var failureThreshold = 5
    /// How long a destination stays down before one probe, the first time it goes down.
    public var cooldownMs = 30_000

    public init(failureThreshold: Int = 5, cooldownMs: Int = 30_000) {
        self.failureThreshold = failureThreshold
        self.cooldownMs = cooldownMs
    }

    /// `failureThreshold: 0`.
    public var isOff: Bool { failureThreshold == 0 }
}

/// `lanes.onFailure` (contract section 14): whether a lane whose job ends in `failed/` or
/// `refused/` stops (`block`, the default) or carries on with its next job (`skip`).
public enum LaneFailurePolicy: String, Sendable, CaseIterable {
    case block, skip
}

/// The `retry` object of `outbound.json`.
public struct RetrySettings: Sendable, Equatable {
    public var maxAttempts = 8
    public var baseDelayMs = 1000
    public var maxDelayMs = 600_000
    public var maxAgeSeconds = 86400

    public init(maxAttempts: Int = 8, baseDelayMs: Int = 1000, maxDelayMs: Int = 600_000, maxAgeSeconds: Int = 86400) {
        self.maxAttempts = maxAttempts
        self.baseDelayMs = baseDelayMs
        self.maxDelayMs = maxDelayMs
        self.maxAgeSeconds = maxAgeSeconds
    }
}
