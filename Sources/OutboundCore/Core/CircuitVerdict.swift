/// What one attempt says about whether its destination is reachable, the only thing a
/// circuit breaker looks at (contract section 13, modelled on Postfix's dead-destination logic).
public enum CircuitVerdict: Sendable, Equatable {
    /// The destination answered with any HTTP status: it is up. A 503 is the partner speaking,
    /// handled by retry and Retry-After, never a reason to stop talking to it.
    case reachable
    /// A connect, DNS, TLS-handshake or timeout error: counts towards taking it down.
    case unreachable
    /// Says nothing either way: an error local to this host (no descriptor, no memory, a bad
    /// local TLS file), or a connection that was reset or broke in another way after it was
    /// made (the destination accepted it, so it is not down in Postfix's sense).
    case neutral

    public init(_ result: AttemptResult) {
        switch result {
        case .response:
            self = .reachable
        case .transportError(let error):
            self = Self.verdict(for: error)
        }
    }

    /// Connect, DNS, TLS and timeout count, unless the failure was this host's own.
    public static func verdict(for error: TransportError) -> CircuitVerdict {
        if error.isLocal { return .neutral }
        switch error.kind {
        case .connect, .dns, .tls, .timeout: return .unreachable
        case .reset, .other: return .neutral
        }
    }
}
