/// The numbers a circuit breaker decides by, from `circuit` and `retry.maxDelayMs` in
/// `outbound.json` (contract section 13).
public struct CircuitRules: Sendable, Equatable {
    /// Consecutive counted failures that take a destination down; 0: the breaker is off.
    public let failureThreshold: Int
    /// The first cooldown, and the floor of every later one.
    public let cooldownMs: Int
    /// The ceiling of a doubled cooldown (`retry.maxDelayMs`); never below `cooldownMs`.
    public let maxCooldownMs: Int

    public init(failureThreshold: Int, cooldownMs: Int, maxCooldownMs: Int) {
        precondition(failureThreshold >= 0 && cooldownMs > 0, "settings are checked by ConfigLoader")
        self.failureThreshold = failureThreshold
        self.cooldownMs = cooldownMs
        self.maxCooldownMs = max(maxCooldownMs, cooldownMs)
    }

    public init(_ settings: Settings) {
        self.init(failureThreshold: settings.circuit.failureThreshold, cooldownMs: settings.circuit.cooldownMs,
                  maxCooldownMs: settings.retry.maxDelayMs)
    }

    public var isOff: Bool { failureThreshold == 0 }

    /// The cooldown after `previousMs` (0: the first opening): doubled, capped at
    /// `maxCooldownMs`, never below `cooldownMs`.
    public func cooldown(after previousMs: Int) -> Int {
        guard previousMs > 0 else { return cooldownMs }
        return max(cooldownMs, min(previousMs > maxCooldownMs / 2 ? maxCooldownMs : previousMs * 2, maxCooldownMs))
    }
}
