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

    public init(environment: Environment, auditLogPath: String) {
        self.environment = environment
        self.auditLogPath = auditLogPath
    }
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
