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
/// Its fields live in one `SharedBox`: a job is copied from the intake thread to the dispatch
/// core, into its actions and outcome records, and a copy then takes one reference where it
/// took one for each of its strings and arrays.
public struct Job: Sendable {
    private let box: SharedBox<Fields>

    /// The idempotency key and the audit log's `job`.
    public var id: String { box.value.id }
    /// The client ID exactly as given; empty when the job has none (the gate refuses it).
    public var clientId: String { box.value.clientId }
    public var url: TargetURL { box.value.url }
    public var method: HTTPMethod { box.value.method }
    public var service: String? { box.value.service }
    public var headers: [HeaderField] { box.value.headers }
    public var body: [UInt8]? { box.value.body }
    public var maxAttempts: Int? { box.value.maxAttempts }
    public var timeoutMs: Int? { box.value.timeoutMs }
    /// Seconds since the epoch after which the job must not be sent.
    public var notAfter: Double? { box.value.notAfter }
    public var orderingKey: String? { box.value.orderingKey }
    /// Lowercase hex SHA-256 of `body`, computed once; nil without a body.
    public var bodySha256: String? { box.value.bodySha256 }

    public init(id: String, clientId: String, url: TargetURL, method: HTTPMethod = .post, service: String? = nil,
                headers: [HeaderField] = [], body: [UInt8]? = nil, maxAttempts: Int? = nil, timeoutMs: Int? = nil,
                notAfter: Double? = nil, orderingKey: String? = nil) {
        box = SharedBox(Fields(id: id, clientId: clientId, url: url, method: method, service: service, headers: headers,
                               body: body, maxAttempts: maxAttempts, timeoutMs: timeoutMs, notAfter: notAfter,
                               orderingKey: orderingKey, bodySha256: body.map { SHA256.hex($0) }))
    }

    /// The job's own value for a header, case-insensitively.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveEquals(name) }?.value
    }

    private struct Fields: Sendable {
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
    }
}
