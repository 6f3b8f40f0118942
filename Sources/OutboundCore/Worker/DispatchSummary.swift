/// How a `run` or `drain` ended, and what it did.
public struct DispatchSummary: Sendable {
    /// Why the loop stopped.
    public enum Ending: Sendable, Equatable {
        /// drain: every job it could see is terminal or held.
        case finished
        /// drain: `--max-wait` passed with jobs still in `deferred/`.
        case deferredRemaining
        /// run: SIGTERM or SIGINT.
        case stopped
        /// The audit log could not be written; claims were put back.
        case auditFailure(String)
        /// libcurl's multi handle failed; claims were put back.
        case transferEngineFailure(String)
        /// libcurl could not be loaded or set up at the start; nothing was sent and claims
        /// were put back.
        case transferEngineUnavailable(String)
        /// A spool operation failed under a job (its outcome could not be filed, or a claim
        /// could not be returned); claims were put back where possible.
        case spoolFailure(String)
    }

    public var ending: Ending = .finished
    public var delivered = 0
    public var failed = 0
    public var refused = 0
    public var corrupt = 0
    public var deferred = 0
    public var recovered = 0
    /// Claims put back in their folder at the stop.
    public var requeued = 0
    /// Jobs in `deferred/` when the loop ended.
    public var stillDeferred = 0
    /// Files left in `incoming/` because moving them out failed (not in the drain line, whose
    /// fields the contract fixes; a drain that leaves any exits 74).
    public var unclaimable = 0

    public init() {}

    /// "delivered=3 failed=1 refused=2 corrupt=1 deferred=0 recovered=0": the drain line.
    public var line: String {
        "delivered=\(delivered) failed=\(failed) refused=\(refused) corrupt=\(corrupt) "
            + "still_deferred=\(stillDeferred) retries=\(deferred) recovered=\(recovered)"
    }
}
