import Foundation

/// Ready-made request handlers for `LoopbackHTTPServer(handler:)`.
public enum Responders {
    /// A handler that fails the first `failures` requests of each job, then succeeds.
    ///
    /// Requests are grouped by their `Idempotency-Key` header value, or by their target when
    /// they have none. The first `failures` requests of a group are answered with
    /// `failureStatus` (plus `Retry-After: <retryAfter>` when given); later ones get 204.
    public static func failThenSucceed(failures: Int, failureStatus: Int = 503, retryAfter: String? = nil)
        -> @Sendable (RecordedRequest) -> ServerAction {
        let counter = KeyCounter()
        let failureHeaders = retryAfter.map { [HTTPHeaderField(name: "Retry-After", value: $0)] } ?? []
        return { request in
            let key = request.header("Idempotency-Key") ?? request.target
            guard counter.increment(key) <= failures else { return .respond(status: 204) }
            return .respond(status: failureStatus, headers: failureHeaders)
        }
    }

    /// A handler that picks the action from `table` by the request's path (the target with its
    /// query string removed), and uses `default` for paths not in the table.
    public static func byPath(_ table: [String: ServerAction], default fallback: ServerAction)
        -> @Sendable (RecordedRequest) -> ServerAction {
        { request in table[request.path] ?? fallback }
    }

    /// A handler that answers every request with `302 Found` and `Location: <location>`.
    public static func redirect(to location: String) -> @Sendable (RecordedRequest) -> ServerAction {
        { _ in .respond(status: 302, headers: [HTTPHeaderField(name: "Location", value: location)]) }
    }
}

/// Per-key request counts shared by the connection threads.
///
/// `@unchecked Sendable`: `counts` is only read or written while holding `lock`.
final class KeyCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var counts: [String: Int] = [:]

    /// Adds one to `key`'s count and returns the new count (1 for the first request).
    func increment(_ key: String) -> Int {
        lock.lock()
        defer { lock.unlock() }
        let count = counts[key, default: 0] + 1
        counts[key] = count
        return count
    }
}
