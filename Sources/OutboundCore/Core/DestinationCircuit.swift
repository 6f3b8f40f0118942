/// What to do with a job whose destination's circuit was asked.
public enum CircuitDecision: Sendable, Equatable {
    /// Send it: the destination is up (or the breaker is off).
    case attempt
    /// Send it as the one probe of a destination whose cooldown is over; report its result
    /// with `probe: true`.
    case probe
    /// Do not send it and count no attempt: put it in `deferred/` until `until` (seconds since
    /// the epoch), with a `deferred` line, reason `destination_down`.
    case setAside(until: Double)
}

/// One destination's circuit breaker (contract section 13): a small value whose event methods
/// return what to do and what to audit, so every rule is tested without a socket.
///
/// Up, it counts consecutive unreachable verdicts; at `failureThreshold` it goes down for
/// `cooldownMs`. Down, every job is set aside. After the cooldown the next job is the one
/// probe: reachable brings it up, unreachable takes it down again for the doubled cooldown
/// (capped at `retry.maxDelayMs`, never below `cooldownMs`). While the probe is out, other jobs
/// are set aside until the moment the next probe would be due if this one fails (the caller
/// may bring them forward when the destination comes up). Reachable results of attempts
/// started before it went down bring it up too: the destination answered.
public struct DestinationCircuit: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        case up
        /// Set aside every job until `until`; then probe.
        case down(until: Double)
        /// The probe is out.
        case probing
    }

    public private(set) var state = State.up
    /// Consecutive unreachable verdicts, with no reachable one between.
    public private(set) var failures = 0
    /// The cooldown of the current or last opening; 0 when it has not gone down since it was
    /// last up.
    public private(set) var cooldownMs = 0

    public init() {}

    /// Up, with no failure counted: nothing to remember about it.
    public var isIdle: Bool { state == .up && failures == 0 }

    /// What to do with the next job to this destination at `now`.
    public mutating func decide(now: Double, rules: CircuitRules) -> CircuitDecision {
        if rules.isOff { return .attempt }
        switch state {
        case .up:
            return .attempt
        case .down(let until):
            guard now >= until else { return .setAside(until: until) }
            state = .probing
            return .probe
        case .probing:
            return .setAside(until: now + Double(rules.cooldown(after: cooldownMs)) / 1000)
        }
    }

    /// An attempt to this destination ended at `now` with `verdict`; `probe` when it was the
    /// attempt `decide` returned `.probe` for. Returns the event to audit, if any.
    public mutating func record(_ verdict: CircuitVerdict, probe: Bool, now: Double, destination: Destination,
                                rules: CircuitRules) -> DestinationEvent? {
        if rules.isOff {
            self = DestinationCircuit()
            return nil
        }
        switch verdict {
        case .reachable:
            let wasDown = state != .up
            let event = DestinationEvent(kind: .up, destination: destination, failures: failures, cooldownMs: cooldownMs)
            self = DestinationCircuit()
            return wasDown ? event : nil
        case .neutral:
            // A probe that says nothing is no verdict: the next job probes again.
            if probe && state == .probing { state = .down(until: now) }
            return nil
        case .unreachable:
            failures += 1
            switch state {
            case .up where failures >= rules.failureThreshold:
                return open(now: now, destination: destination, rules: rules)
            case .probing where probe:
                return open(now: now, destination: destination, rules: rules)
            case .up, .down, .probing:
                // Below the threshold, or the late result of an attempt started before it
                // went down: counted, nothing more.
                return nil
            }
        }
    }

    /// The probe's job went without an attempt (refused, expired, the process stopping): the
    /// next job probes instead.
    public mutating func abandonProbe(now: Double) {
        if state == .probing { state = .down(until: now) }
    }

    private mutating func open(now: Double, destination: Destination, rules: CircuitRules) -> DestinationEvent {
        cooldownMs = rules.cooldown(after: cooldownMs)
        state = .down(until: now + Double(cooldownMs) / 1000)
        return DestinationEvent(kind: .down, destination: destination, failures: failures, cooldownMs: cooldownMs)
    }
}
