/// A destination going down or coming back up: the `destination_down` / `destination_up`
/// audit lines (contract sections 8 and 13). Returned by the circuit as a value; the caller
/// writes it.
public struct DestinationEvent: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case down, up
    }

    public let kind: Kind
    public let destination: Destination
    /// Consecutive connect, DNS, TLS-handshake or timeout failures when it went down (or, on
    /// `up`, those it had when the successful attempt ended).
    public let failures: Int
    /// On `down`: how long until the probe. On `up`: the cooldown it had been given.
    public let cooldownMs: Int

    public init(kind: Kind, destination: Destination, failures: Int, cooldownMs: Int) {
        self.kind = kind
        self.destination = destination
        self.failures = failures
        self.cooldownMs = cooldownMs
    }

    /// The audit line for this event at `at`.
    public func auditRecord(at: Double) -> AuditRecord {
        var record = AuditRecord(kind == .down ? .destinationDown : .destinationUp, at: at)
        record.destination = destination.description
        record.failures = failures
        record.cooldownMs = cooldownMs
        return record
    }
}
