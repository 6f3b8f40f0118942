/// The gate's verdict on one job.
public enum GateDecision: Sendable, Equatable {
    case allowed(ClientRecord)
    case refused(RefusalReason, message: String)
}

/// The client-ID gate (contract section 6): a job may go out only if its client ID is active
/// in this environment, in scope and called at one of its record's endpoints. Pure: no I/O.
public struct Gate: Sendable {
    public let registry: ClientRegistry
    public let environment: Environment

    public init(registry: ClientRegistry, environment: Environment) {
        self.registry = registry
        self.environment = environment
    }

    /// Checks in the contract's order; the first rule that fails refuses the job.
    public func check(_ job: Job) -> GateDecision {
        guard !job.clientId.isEmpty else {
            return .refused(.missingClientId, message: "the job has no clientId")
        }
        // Byte-exact: a String lookup would also match a canonically equivalent spelling,
        // and the header sent carries the job's own bytes.
        guard let record = registry.record(for: job.clientId), record.clientId.hasSameBytes(as: job.clientId) else {
            return .refused(.unknownClientId, message: "no client record has this clientId")
        }
        guard record.status == .active else {
            return .refused(.inactiveClientId, message: "the client record for '\(record.application)' is inactive")
        }
        guard record.environment == environment else {
            return .refused(.wrongEnvironment, message: "the client record for '\(record.application)' is for "
                + "\(record.environment.rawValue), this dispatcher runs in \(environment.rawValue)")
        }
        if let scopes = record.scopes {
            guard let service = job.service else {
                return .refused(.outOfScope, message: "the client record for '\(record.application)' lists scopes and the job names no service")
            }
            guard scopes.contains(service) else {
                return .refused(.outOfScope, message: "service '\(JobDecoder.printable(service))' is not among the scopes of '\(record.application)'")
            }
        }
        guard record.endpoints.contains(where: { $0.admits(job.url) }) else {
            return .refused(.endpointNotAllowed,
                            message: "\(job.url.redacted.truncatedToUTF8Bytes(300)) is not under any endpoint of '\(record.application)'")
        }
        if record.auth != nil, job.header("Authorization") != nil {
            return .refused(.authorizationHeaderNotAllowed, message: "the client record for '\(record.application)' "
                + "uses OAuth 2.0 and Outbound sends its bearer token; remove the job's Authorization header")
        }
        return .allowed(record)
    }
}
