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
public struct Job: Sendable {
    /// The idempotency key and the audit log's `job`.
    public let id: String
    /// The client ID exactly as given; empty when the job has none (the gate refuses it).
    public let clientId: String
    public let url: TargetURL
    public let method: HTTPMethod
    public let service: String?
    public let headers: [HeaderField]
    public let body: [UInt8]?
    public let maxAttempts: Int?
    public let timeoutMs: Int?
    /// Seconds since the epoch after which the job must not be sent.
    public let notAfter: Double?
    public let orderingKey: String?
    /// Lowercase hex SHA-256 of `body`, computed once; nil without a body.
    public let bodySha256: String?

    public init(id: String, clientId: String, url: TargetURL, method: HTTPMethod = .post, service: String? = nil,
                headers: [HeaderField] = [], body: [UInt8]? = nil, maxAttempts: Int? = nil, timeoutMs: Int? = nil,
                notAfter: Double? = nil, orderingKey: String? = nil) {
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
        self.bodySha256 = body.map { SHA256.hex($0) }
    }

    /// The job's own value for a header, case-insensitively.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveEquals(name) }?.value
    }
}
