/// Whether a client record may be used.
public enum ClientStatus: String, Sendable, CaseIterable {
    case active
    case inactive
}

/// One partner application's client record from `Config/clients.json`.
///
/// Its fields live in one `SharedBox`, as a `Job`'s do: every claimed job carries its client's
/// record from the gate to its outcome, and a copy then takes one reference, not one for each
/// string, set and array.
public struct ClientRecord: Sendable, Equatable {
    private let box: SharedBox<Fields>

    public var clientId: String { box.value.clientId }
    public var application: String { box.value.application }
    public var environment: Environment { box.value.environment }
    public var status: ClientStatus { box.value.status }
    /// nil: the record lists no scopes and any `service` (or none) is in scope.
    public var scopes: Set<String>? { box.value.scopes }
    public var endpoints: [Endpoint] { box.value.endpoints }
    /// Mutual TLS: absolute paths of this client's certificate and key.
    public var certFile: String? { box.value.certFile }
    public var keyFile: String? { box.value.keyFile }
    /// OAuth 2.0 client credentials (section 12): when set, every call carries a bearer token.
    public var auth: OAuthClientAuth? { box.value.auth }

    public init(clientId: String, application: String, environment: Environment, status: ClientStatus,
                scopes: Set<String>?, endpoints: [Endpoint], certFile: String? = nil, keyFile: String? = nil,
                auth: OAuthClientAuth? = nil) {
        box = SharedBox(Fields(clientId: clientId, application: application, environment: environment, status: status,
                               scopes: scopes, endpoints: endpoints, certFile: certFile, keyFile: keyFile, auth: auth))
    }

    /// Equal when every field is: two loads of the same file give equal records.
    public static func == (lhs: ClientRecord, rhs: ClientRecord) -> Bool {
        lhs.box === rhs.box || lhs.box.value == rhs.box.value
    }

    private struct Fields: Sendable, Equatable {
        let clientId: String
        let application: String
        let environment: Environment
        let status: ClientStatus
        let scopes: Set<String>?
        let endpoints: [Endpoint]
        let certFile: String?
        let keyFile: String?
        let auth: OAuthClientAuth?
    }
}

/// The client records in force, looked up by client ID (exact, case-sensitive match).
public struct ClientRegistry: Sendable, Equatable {
    private let records: [String: ClientRecord]

    public init(_ records: [ClientRecord]) {
        var byId: [String: ClientRecord] = [:]
        for record in records { byId[record.clientId] = record }
        self.records = byId
    }

    public func record(for clientId: String) -> ClientRecord? { records[clientId] }
    public var count: Int { records.count }
    public var activeCount: Int { records.values.filter { $0.status == .active }.count }
    /// Every record, ordered by client ID (for `jwks` and `validate --check-auth`).
    public var all: [ClientRecord] { records.values.sorted { $0.clientId < $1.clientId } }
}
