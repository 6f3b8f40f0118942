/// Everything libcurl needs for one attempt, in Swift terms. Built from a job, the settings
/// and the client record by `RequestBuilder`; turned into curl options by `CurlTransfer`.
public struct TransferRequest: Sendable {
    public var url: String
    public var method: HTTPMethod
    /// Header lines, "Name: value", in the order they are sent; "Name:" removes one of
    /// libcurl's defaults.
    public var headerLines: [String]
    public var body: [UInt8]?
    public var connectTimeoutMs: Int
    public var timeoutMs: Int
    public var tls: TLSOptions
    /// Whether the response body is kept (at most `TransferRequest.collectedBodyLimit` bytes)
    /// and handed back with the result: only for token requests, whose answer is the body.
    /// A job's response body is never kept.
    public var collectsResponseBody: Bool

    /// The most bytes a collected response body may have; a longer one fails the transfer.
    public static let collectedBodyLimit = 64 * 1024

    public init(url: String, method: HTTPMethod, headerLines: [String], body: [UInt8]?,
                connectTimeoutMs: Int, timeoutMs: Int, tls: TLSOptions, collectsResponseBody: Bool = false) {
        self.url = url
        self.method = method
        self.headerLines = headerLines
        self.body = body
        self.connectTimeoutMs = connectTimeoutMs
        self.timeoutMs = timeoutMs
        self.tls = tls
        self.collectsResponseBody = collectsResponseBody
    }
}

/// The TLS material for one transfer: the CA bundle to trust (nil: the system's) and,
/// for mutual TLS, the client record's certificate and key (absolute paths).
public struct TLSOptions: Sendable, Equatable {
    public var caFile: String?
    public var certFile: String?
    public var keyFile: String?

    public init(caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil) {
        self.caFile = caFile
        self.certFile = certFile
        self.keyFile = keyFile
    }
}

/// What one attempt produced, before the retry policy judges it.
public enum AttemptResult: Sendable, Equatable {
    /// The server answered; `retryAfter` is the raw Retry-After header, if any.
    case response(status: Int, retryAfter: String?)
    /// No complete response: connection, DNS, TLS, timeout or reset.
    case transportError(TransportError)
}

/// A failed transfer, classified the way the contract's retry table needs.
public struct TransportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The contract's classes of transport failure.
    public enum Kind: String, Sendable {
        case dns, connect, tls, timeout, reset, other
    }

    public let kind: Kind
    /// libcurl's generic text for the error code (never the URL or payload).
    public let detail: String
    /// The failure was this host's, not the destination's: no file descriptor, no memory, no
    /// local port, an unreadable CA or client-certificate file. It never counts against a
    /// destination's circuit (contract section 13).
    public let isLocal: Bool

    public init(kind: Kind, detail: String, isLocal: Bool = false) {
        self.kind = kind
        self.detail = detail
        self.isLocal = isLocal
    }

    /// "timeout: Timeout was reached": the audit log's `error` field.
    public var description: String { "\(kind.rawValue): \(detail)" }
}
