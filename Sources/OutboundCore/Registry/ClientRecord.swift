/// Whether a client record may be used.
public enum ClientStatus: String, Sendable, CaseIterable {
    case active
    case inactive
}

/// One partner application's client record from `Config/clients.json`.
public struct ClientRecord: Sendable, Equatable {
    public let clientId: String
    public let application: String
    public let environment: Environment
    public let status: ClientStatus
    /// nil: the record lists no scopes and any `service` (or none) is in scope.
    public let scopes: Set<String>?
    public let endpoints: [Endpoint]
    /// Mutual TLS: absolute paths of this client's certificate and key.
    public let certFile: String?
    public let keyFile: String?
    /// OAuth 2.0 client credentials (section 12): when set, every call carries a bearer token.
    public let auth: OAuthClientAuth?

    public init(clientId: String, application: String, environment: Environment, status: ClientStatus,
                scopes: Set<String>?, endpoints: [Endpoint], certFile: String? = nil, keyFile: String? = nil,
                auth: OAuthClientAuth? = nil) {
        self.clientId = clientId
        self.application = application
        self.environment = environment
        self.status = status
        self.scopes = scopes
        self.endpoints = endpoints
        self.certFile = certFile
        self.keyFile = keyFile
        self.auth = auth
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
