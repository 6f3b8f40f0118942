/// The circuits of every destination that has failed lately, keyed by scheme, host and port.
///
/// Healthy destinations have no entry (an idle circuit is dropped), so the table stays as
/// small as the set of failing partners and a healthy job costs one dictionary lookup.
public struct DestinationTable: Sendable {
    public private(set) var rules: CircuitRules
    private var circuits: [Destination: DestinationCircuit] = [:]

    public init(rules: CircuitRules) {
        self.rules = rules
    }

    /// What to do with the next job to `destination` at `now`.
    public mutating func decide(for destination: Destination, now: Double) -> CircuitDecision {
        guard !rules.isOff, var circuit = circuits[destination] else { return .attempt }
        let decision = circuit.decide(now: now, rules: rules)
        circuits[destination] = circuit
        return decision
    }

    /// An attempt to `destination` ended at `now` with `result`; `probe` when `decide` had
    /// returned `.probe` for it. Returns the event to audit, if any.
    public mutating func record(_ result: AttemptResult, for destination: Destination, probe: Bool, now: Double) -> DestinationEvent? {
        record(CircuitVerdict(result), for: destination, probe: probe, now: now)
    }

    /// The same, with the verdict already taken.
    public mutating func record(_ verdict: CircuitVerdict, for destination: Destination, probe: Bool, now: Double) -> DestinationEvent? {
        if rules.isOff { return nil }
        if verdict == .reachable && circuits[destination] == nil { return nil }
        var circuit = circuits[destination] ?? DestinationCircuit()
        let event = circuit.record(verdict, probe: probe, now: now, destination: destination, rules: rules)
        circuits[destination] = circuit.isIdle ? nil : circuit
        return event
    }

    /// The probe's job to `destination` went without an attempt: the next job probes instead.
    public mutating func abandonProbe(for destination: Destination, now: Double) {
        circuits[destination]?.abandonProbe(now: now)
    }

    /// New rules after a configuration reload. Turning the breaker off forgets every circuit
    /// (nothing is down any more); other changes apply from the next opening.
    public mutating func update(rules newRules: CircuitRules) {
        rules = newRules
        if rules.isOff { circuits = [:] }
    }

    /// Destinations that are down or being probed, for `status`: each with the time its
    /// cooldown ends (nil while its probe is out), in a stable order.
    public var down: [(destination: Destination, until: Double?, failures: Int, cooldownMs: Int)] {
        circuits.compactMap { destination, circuit in
            switch circuit.state {
            case .up: return nil
            case .down(let until): return (destination, until, circuit.failures, circuit.cooldownMs)
            case .probing: return (destination, nil, circuit.failures, circuit.cooldownMs)
            }
        }.sorted { $0.destination.description < $1.destination.description }
    }
}
