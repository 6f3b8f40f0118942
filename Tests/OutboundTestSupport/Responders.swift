import Foundation

/// Ready-made server handlers for common scenarios.
public enum Responders {
    /// The first `failures` requests for each Idempotency-Key (or target, when absent) get
    /// `failureStatus` (with Retry-After if given); later ones get 204.
    public static func failThenSucceed(failures: Int, failureStatus: Int = 503, retryAfter: String? = nil)
        -> @Sendable (RecordedRequest) -> ServerAction {
        let counter = KeyCounter()
        return { request in
            let key = request.header("Idempotency-Key") ?? request.target
            guard counter.increment(key) <= failures else { return .respond(status: 204) }
            let headers = retryAfter.map { [HTTPHeaderField(name: "Retry-After", value: $0)] } ?? []
            return .respond(status: failureStatus, headers: headers)
        }
    }

    /// Chooses by the path (query stripped).
    public static func byPath(_ table: [String: ServerAction], default fallback: ServerAction) -> @Sendable (RecordedRequest) -> ServerAction {
        { request in table[request.path] ?? fallback }
    }

    /// Always answers 302 with a Location.
    public static func redirect(to location: String) -> @Sendable (RecordedRequest) -> ServerAction {
        { _ in .respond(status: 302, headers: [HTTPHeaderField(name: "Location", value: location)]) }
    }
}

/// Counts per key, thread-safe.
final class KeyCounter: @unchecked Sendable {
    // @unchecked: `counts` is only touched under `lock`.
    private let lock = NSLock()
    private var counts: [String: Int] = [:]

    func increment(_ key: String) -> Int {
        lock.lock()
        defer { lock.unlock() }
        counts[key, default: 0] += 1
        return counts[key]!
    }
}
