/// Transfers in flight per destination (`host:port`), against `perHostConcurrency` (one to a
/// TLS destination until its first attempt has ended: `SessionWarmUp`), so one slow partner
/// never takes every slot; and when each last moved, so a partner that stopped answering is
/// known before its attempts time out.
struct HostLoad {
    /// The most transfers to one destination at once.
    var limit: Int
    /// How long a destination at its limit may go without a transfer ending before it counts
    /// as stalled (`stalled(at:)`).
    var stallSeconds: Double
    private var counts: [String: Int] = [:]
    /// Destinations with transfers in flight that are held to one by the warm-up.
    private var warming: Set<String> = []
    private var warmUp = SessionWarmUp()
    /// For each destination with transfers in flight: when its first one started, or one
    /// ended since.
    private var movedAt: [String: Double] = [:]

    init(limit: Int, timeoutMs: Int) {
        self.limit = limit
        stallSeconds = Self.stallSeconds(timeoutMs: timeoutMs)
    }

    /// A quarter of `timeoutMs`, at most 5 s. A partner that answers at all ends transfers far
    /// more often: 16 in flight taking 20 s each end one every 1.25 s. One that never answers
    /// counts as stalled long before its attempts time out and its circuit can open.
    static func stallSeconds(timeoutMs: Int) -> Double {
        min(5, Double(timeoutMs) / 4000)
    }

    /// Whether another transfer to `key` (over TLS: `tls`) may start.
    func hasRoom(for key: String, tls: Bool) -> Bool {
        counts[key, default: 0] < warmUp.limit(limit, for: key, tls: tls)
    }

    /// The most transfers `key` may have in flight now.
    private func limit(of key: String) -> Int {
        warming.contains(key) ? warmUp.limit(limit, for: key, tls: true) : limit
    }

    /// Transfers in flight to `key`.
    func load(of key: String) -> Int { counts[key, default: 0] }

    mutating func add(_ key: String, tls: Bool, at now: Double) {
        let count = counts[key, default: 0]
        counts[key] = count + 1
        if count == 0 { movedAt[key] = now }
        if warmUp.limit(limit, for: key, tls: tls) < limit { warming.insert(key) }
    }

    mutating func remove(_ key: String, at now: Double) {
        let load = counts[key, default: 1] - 1
        counts[key] = load > 0 ? load : nil
        movedAt[key] = load > 0 ? now : nil
        // Only a destination held by the warm-up has anything to learn from an attempt's end.
        if warming.remove(key) != nil { warmUp.attemptEnded(for: key) }
    }

    /// Destinations at their limit none of whose transfers has ended for `stallSeconds`: a
    /// partner that accepts connections and never answers, or whose packets are dropped. Their
    /// jobs can only wait, however many are claimed.
    func stalled(at now: Double) -> Set<String> {
        var keys = Set<String>()
        for (key, count) in counts where count >= limit(of: key) {
            if let moved = movedAt[key], now - moved >= stallSeconds { keys.insert(key) }
        }
        return keys
    }

    /// The next moment a destination at its limit would count as stalled, if nothing of it
    /// ends before: the loop wakes then to tell the intake.
    func nextStall(from now: Double) -> Double? {
        var next: Double?
        for (key, count) in counts where count >= limit(of: key) {
            if let moved = movedAt[key], moved + stallSeconds > now { next = min(next ?? .infinity, moved + stallSeconds) }
        }
        return next
    }

    /// Whether nothing is in flight anywhere.
    var isEmpty: Bool { counts.isEmpty }
}
