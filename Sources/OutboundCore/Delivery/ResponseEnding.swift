/// How an answered attempt's response ended when it did not end cleanly.
///
/// A 2xx is delivery from the moment its status line arrives (contract section 7): a body
/// that never ends, a flood of headers, a reset or a timeout after it does not undo it, and
/// Outbound reads at most a small response. The outcome stands; this only records, in the
/// outcome line's `error`, what happened to the rest.
public enum ResponseEnding: Sendable, Equatable, CustomStringConvertible {
    /// Outbound stopped reading once the response (header section and body) passed `limit` bytes.
    case capped(limit: Int)
    /// The transfer failed after the status line had arrived.
    case broken(TransportError)

    /// The audit log's `error` text, e.g. "stopped reading: the response passed 65536 bytes".
    public var description: String {
        switch self {
        case .capped(let limit): return "stopped reading: the response passed \(limit) bytes"
        case .broken(let error): return "\(error) (after the status line)"
        }
    }
}
