/// The HTTP methods a job may use (section 3).
public enum HTTPMethod: String, Sendable, CaseIterable {
    case get = "GET"
    case post = "POST"
    case put = "PUT"
    case patch = "PATCH"
    case delete = "DELETE"
}

/// One header a job asks to send, as written in the job file.
public struct HeaderField: Sendable, Equatable {
    public let name: String
    public let value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// A decoded, validated job: one HTTP call. Immutable; the bytes it came from never change.
///
/// Its fields live in one shared box: a job is copied from the intake thread to the dispatch
/// core, into its actions and outcome records, and a copy then takes one reference where it
/// took one for each of its strings and arrays.
public struct Job: Sendable {
    private let fields: Fields

    /// The idempotency key and the audit log's `job`.
    public var id: String { fields.id }
    /// The client ID exactly as given; empty when the job has none (the gate refuses it).
    public var clientId: String { fields.clientId }
    public var url: TargetURL { fields.url }
    public var method: HTTPMethod { fields.method }
    public var service: String? { fields.service }
    public var headers: [HeaderField] { fields.headers }
    public var body: [UInt8]? { fields.body }
    public var maxAttempts: Int? { fields.maxAttempts }
    public var timeoutMs: Int? { fields.timeoutMs }
    /// Seconds since the epoch after which the job must not be sent.
    public var notAfter: Double? { fields.notAfter }
    public var orderingKey: String? { fields.orderingKey }
    /// Lowercase hex SHA-256 of `body`, computed once; nil without a body.
    public var bodySha256: String? { fields.bodySha256 }

    public init(id: String, clientId: String, url: TargetURL, method: HTTPMethod = .post, service: String? = nil,
                headers: [HeaderField] = [], body: [UInt8]? = nil, maxAttempts: Int? = nil, timeoutMs: Int? = nil,
                notAfter: Double? = nil, orderingKey: String? = nil) {
        fields = Fields(id: id, clientId: clientId, url: url, method: method, service: service, headers: headers,
                        body: body, maxAttempts: maxAttempts, timeoutMs: timeoutMs, notAfter: notAfter,
                        orderingKey: orderingKey, bodySha256: body.map { SHA256.hex($0) })
    }

    /// The job's own value for a header, case-insensitively.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveEquals(name) }?.value
    }

    /// The box: set once, never changed, so sharing it between copies is safe on any thread.
    private final class Fields: Sendable {
        let id: String
        let clientId: String
        let url: TargetURL
        let method: HTTPMethod
        let service: String?
        let headers: [HeaderField]
        let body: [UInt8]?
        let maxAttempts: Int?
        let timeoutMs: Int?
        let notAfter: Double?
        let orderingKey: String?
        let bodySha256: String?

        init(id: String, clientId: String, url: TargetURL, method: HTTPMethod, service: String?, headers: [HeaderField],
             body: [UInt8]?, maxAttempts: Int?, timeoutMs: Int?, notAfter: Double?, orderingKey: String?, bodySha256: String?) {
            self.id = id
            self.clientId = clientId
            self.url = url
            self.method = method
            self.service = service
            self.headers = headers
            self.body = body
            self.maxAttempts = maxAttempts
            self.timeoutMs = timeoutMs
            self.notAfter = notAfter
            self.orderingKey = orderingKey
            self.bodySha256 = bodySha256
        }
    }
}
