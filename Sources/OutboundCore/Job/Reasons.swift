/// Why a job file is not a valid job (section 3 of the contract). Raw values are the
/// contract's spellings and appear in `.reason` sidecars and the audit log.
public enum CorruptReason: String, Sendable, CaseIterable {
    case invalidJSON = "invalid_json"
    case invalidJob = "invalid_job"
    case tooLarge = "too_large"
    case unsupportedFile = "unsupported_file"
}

/// Why the client-ID gate refused a job (section 6), in the order the gate checks them.
public enum RefusalReason: String, Sendable, CaseIterable {
    case missingClientId = "missing_client_id"
    case unknownClientId = "unknown_client_id"
    case inactiveClientId = "inactive_client_id"
    case wrongEnvironment = "wrong_environment"
    case outOfScope = "out_of_scope"
    case endpointNotAllowed = "endpoint_not_allowed"
    /// The client's record has OAuth 2.0 `auth` and the job carries its own `Authorization`
    /// header: Outbound sends the bearer token and never silently overrides a job's header.
    case authorizationHeaderNotAllowed = "authorization_header_not_allowed"
}

/// Why a job ended in `failed/` (section 7).
public enum FailureReason: String, Sendable, CaseIterable {
    case httpStatus = "http_status"
    case retriesExhausted = "retries_exhausted"
    case expired = "expired"
    /// libcurl refused to set up the transfer (for example a client certificate it cannot load).
    case transferSetup = "transfer_setup"
}

/// A job file rejected before the gate: its reason and a message naming the field.
public struct JobRejection: Error, Sendable, Equatable, CustomStringConvertible {
    public let reason: CorruptReason
    public let message: String

    public init(_ reason: CorruptReason, _ message: String) {
        self.reason = reason
        self.message = message
    }

    public var description: String { "\(reason.rawValue): \(message)" }
}
