/// Transfers in flight per destination (`scheme://host:port`), against `perHostConcurrency`,
/// so one slow partner never takes every slot.
struct HostLoad {
    /// The most transfers to one destination at once.
    var limit: Int
    private var counts: [String: Int] = [:]

    init(limit: Int) {
        self.limit = limit
    }

    /// Whether another transfer to `key` may start.
    func hasRoom(for key: String) -> Bool {
        counts[key, default: 0] < limit
    }

    /// Transfers in flight to `key`.
    func load(of key: String) -> Int { counts[key, default: 0] }

    mutating func add(_ key: String) {
        counts[key, default: 0] += 1
    }

    mutating func remove(_ key: String) {
        let load = counts[key, default: 1] - 1
        counts[key] = load > 0 ? load : nil
    }

    /// Whether nothing is in flight anywhere.
    var isEmpty: Bool { counts.isEmpty }
}
