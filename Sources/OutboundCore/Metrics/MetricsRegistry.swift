/// The counters of one `outbound run` process (contract section 11), fed from the audit
/// lines once they are on disk: every outcome is an audit line, so counting there needs no
/// hook in the dispatcher's decisions and never counts an outcome the log does not hold.
///
/// Label values are the contract's reason codes, status classes (`2xx`, `5xx`) and transport
/// error classes (`connect`, `tls`, ...): never a URL, a query, a body or a token.
///
/// `@unchecked Sendable`: every stored property is touched only while holding `lock`.
public final class MetricsRegistry: @unchecked Sendable {
    /// Upper bounds of the attempt-duration histogram, in seconds.
    public static let durationBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

    /// A copy of the counters at one moment.
    public struct Snapshot: Sendable, Equatable {
        /// `outbound_outcomes_total` by (outcome, reason).
        public var outcomes: [OutcomeKey: Int] = [:]
        /// `outbound_attempts_total` by result.
        public var attempts: [String: Int] = [:]
        /// Cumulative counts per bucket of `durationBuckets`, then the sum and count.
        public var durationCounts = [Int](repeating: 0, count: MetricsRegistry.durationBuckets.count)
        public var durationSum = 0.0
        public var durationCount = 0
        public var transfersInFlight = 0
        /// `outbound_destination_open` by destination (`scheme://host:port`, no path): 1 after
        /// a `destination_down` line, 0 after its `destination_up`.
        public var destinationsOpen: [String: Int] = [:]
        /// `outbound_token_requests_total` by client ID and result (`ok`, the OAuth error
        /// code, `http_503`, `transport`), from the `token` lines.
        public var tokenRequests: [TokenKey: Int] = [:]
    }

    /// One series of `outbound_token_requests_total`: a client ID and a result.
    public struct TokenKey: Hashable, Sendable, Comparable {
        public let client: String
        public let result: String
        public static func < (lhs: TokenKey, rhs: TokenKey) -> Bool {
            (lhs.client, lhs.result) < (rhs.client, rhs.result)
        }
    }

    /// One series of `outbound_outcomes_total`: an outcome and a reason code.
    public struct OutcomeKey: Hashable, Sendable, Comparable {
        public let outcome: String
        public let reason: String
        public static func < (lhs: OutcomeKey, rhs: OutcomeKey) -> Bool {
            (lhs.outcome, lhs.reason) < (rhs.outcome, rhs.reason)
        }
    }

    private let lock = ThreadLock()
    private var counters = Snapshot()

    public init() {}

    /// Counts the outcomes and attempts among audit lines just made durable.
    public func observe(_ records: [AuditRecord]) {
        lock.lock()
        defer { lock.unlock() }
        for record in records {
            switch record.event {
            case .delivered, .deferred, .failed, .refused, .corrupt: break
            case .destinationDown, .destinationUp:
                if let destination = record.destination { counters.destinationsOpen[destination] = record.event == .destinationDown ? 1 : 0 }
                continue
            case .token:
                counters.tokenRequests[TokenKey(client: record.clientId ?? "", result: Self.tokenResult(of: record)), default: 0] += 1
                continue
            default: continue
            }
            counters.outcomes[OutcomeKey(outcome: record.event.rawValue, reason: record.reason ?? "none"), default: 0] += 1
            guard let result = Self.attemptResult(of: record) else { continue }
            counters.attempts[result, default: 0] += 1
            if let ms = record.ms {
                let seconds = Double(ms) / 1000
                for (index, bound) in Self.durationBuckets.enumerated() where seconds <= bound {
                    counters.durationCounts[index] += 1
                }
                counters.durationSum += seconds
                counters.durationCount += 1
            }
        }
    }

    /// The `result` label of an attempt's outcome line: the status class, or the transport
    /// error's class; nil for a line that records no attempt (a refusal, an expiry before
    /// sending).
    static func attemptResult(of record: AuditRecord) -> String? {
        if let status = record.status { return "\(status / 100)xx" }
        // "auth: …": deferred for want of a token, nothing was sent (contract 12).
        guard let error = record.error, !error.hasPrefix("auth:") else { return nil }
        let kind = error.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
        return TransportError.Kind(rawValue: kind)?.rawValue ?? "other"
    }

    /// The `result` label of a `token` line: `ok`, the OAuth error code, `http_<status>`, or
    /// `transport` (no answer). The code is checked to be RFC 6749's alphabet when read.
    static func tokenResult(of record: AuditRecord) -> String {
        if record.expiresIn != nil { return "ok" }
        if let code = record.oauthError { return code }
        if let status = record.status { return "http_\(status)" }
        return "transport"
    }

    /// Transfers running now: set by the dispatcher's loop each pass.
    public func setTransfersInFlight(_ count: Int) {
        lock.lock()
        counters.transfersInFlight = count
        lock.unlock()
    }

    public func snapshot() -> Snapshot {
        lock.lock()
        defer { lock.unlock() }
        return counters
    }
}
