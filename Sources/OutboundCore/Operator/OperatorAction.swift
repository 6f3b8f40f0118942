/// What `requeue`, `hold` and `release` do (contract section 9): which folders a job may leave,
/// where it goes, what its audit line is called, and what happens to its retry state.
public enum OperatorAction: String, Sendable {
    case requeue, hold, release

    /// The folders a job may leave by this action.
    public var sources: [SpoolFolder] {
        switch self {
        case .requeue: return [.failed, .refused, .corrupt, .hold, .deferred, .delivered]
        case .hold: return [.incoming, .deferred]
        case .release: return [.hold]
        }
    }

    public var destination: SpoolFolder {
        self == .hold ? .hold : .incoming
    }

    public var event: AuditEvent {
        switch self {
        case .requeue: return .requeued
        case .hold: return .held
        case .release: return .released
        }
    }

    /// Requeue starts afresh (attempt count and age: its `.state/` file goes, and its sidecar);
    /// hold and release keep both.
    public var keepsState: Bool { self != .requeue }

    /// The past tense for messages: `requeued`.
    public var pastTense: String { event.rawValue }
}
