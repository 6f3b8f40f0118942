/// Builds the request of section 4 from a job: the job's method, URL, headers and body
/// exactly, plus the client-ID header, the idempotency key, the User-Agent and a default
/// Content-Type, and nothing of libcurl's own (`Accept: */*`, `Expect: 100-continue`).
public struct RequestBuilder: Sendable {
    public static let version = "0.1.0"
    public static let userAgent = "outbound/\(version)"
    static let userAgentLine = "User-Agent: \(userAgent)"

    public let settings: Settings

    public init(settings: Settings) {
        self.settings = settings
    }

    public func request(for job: Job, client: ClientRecord) -> TransferRequest {
        var lines: [String] = []
        lines.reserveCapacity(job.headers.count + 5)
        for header in job.headers {
            // libcurl reads "Name:" as "remove this header", and drops a header whose value is
            // only blanks; "Name;" sends it empty. A value of blanks is the empty value in
            // HTTP (RFC 9110 §5.5: white space around a field value is not part of it).
            let blank = header.value.utf8.allSatisfy { $0 == 0x20 || $0 == 0x09 }
            lines.append(blank ? "\(header.name);" : "\(header.name): \(header.value)")
        }
        lines.append("\(settings.clientIdHeader): \(job.clientId)")
        if let idempotencyHeader = settings.idempotencyHeader {
            lines.append("\(idempotencyHeader): \(job.id)")
        }
        // A header line rather than CURLOPT_USERAGENT, which libcurl formats anew for every
        // transfer. A job's own User-Agent is sent instead, as libcurl did with the option.
        if job.header("User-Agent") == nil { lines.append(Self.userAgentLine) }
        if job.header("Content-Type") == nil {
            // Without a body libcurl would still add a form Content-Type to a POST: remove it.
            lines.append(job.body != nil ? "Content-Type: application/json" : "Content-Type:")
        }
        if job.header("Accept") == nil { lines.append("Accept:") }
        lines.append("Expect:")
        let timeout = min(job.timeoutMs ?? settings.timeoutMs, settings.timeoutMs)
        return TransferRequest(
            url: job.url.absoluteString, method: job.method, headerLines: lines, body: job.body,
            connectTimeoutMs: min(settings.connectTimeoutMs, timeout), timeoutMs: timeout,
            tls: TLSOptions(caFile: settings.caFile, certFile: client.certFile, keyFile: client.keyFile))
    }
}
