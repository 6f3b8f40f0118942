/// Turns a job file's bytes into a `Job`, or a `JobRejection` whose message names the field
/// and the rule it breaks (never the value: values may be secrets or patient data).
public struct JobDecoder: Sendable {
    /// Header names a job may not set, lowercase: the dispatcher owns them.
    public let reservedHeaders: Set<String>

    public init(clientIdHeader: String, idempotencyHeader: String?) {
        var reserved: Set<String> = ["host", "content-length", "transfer-encoding", "connection", "expect"]
        reserved.insert(clientIdHeader.lowercased())
        if let idempotencyHeader { reserved.insert(idempotencyHeader.lowercased()) }
        reservedHeaders = reserved
    }

    static let knownFields: [String] = [
        "id", "clientId", "url", "method", "service", "headers", "body", "bodyBase64",
        "maxAttempts", "timeoutMs", "notAfter", "orderingKey",
    ]

    /// Decodes `bytes` read from the file `fileName` (its name supplies the default id).
    public func decode(_ bytes: [UInt8], fileName: String) throws(JobRejection) -> Job {
        let document: JSONValue
        do {
            document = try JSONParser.parse(bytes)
        } catch {
            throw JobRejection(.invalidJSON, "the file is not valid JSON: \(error)")
        }
        guard case .object(let members) = document else {
            throw JobRejection(.invalidJob, "a job must be a JSON object, not \(document.typeDescription)")
        }
        for (key, _) in members where !Self.knownFields.contains(key) {
            throw JobRejection(.invalidJob, "unknown field '\(Self.printable(key))'")
        }
        let fields = JobFields(members: members)

        let id = try decodeId(fields["id"], fileName: fileName)
        let clientId = try optionalString(fields, "clientId") ?? ""
        guard let urlText = try optionalString(fields, "url") else {
            throw JobRejection(.invalidJob, "field 'url' is required")
        }
        let url: TargetURL
        do {
            url = try TargetURLParser.parse(urlText)
        } catch {
            throw JobRejection(.invalidJob, "field 'url' \(error)")
        }
        let method = try decodeMethod(fields["method"])
        let service = try optionalString(fields, "service")
        let headers = try decodeHeaders(fields["headers"])
        let body = try decodeBody(fields)
        if method == .get, body != nil {
            throw JobRejection(.invalidJob, "field 'body' is not allowed with method GET")
        }
        let maxAttempts = try positiveInteger(fields, "maxAttempts")
        let timeoutMs = try positiveInteger(fields, "timeoutMs")
        var notAfter: Double?
        if let text = try optionalString(fields, "notAfter") {
            guard let instant = Timestamp.parse(text) else {
                throw JobRejection(.invalidJob, "field 'notAfter' must be an RFC 3339 date-time such as 2026-11-29T12:00:00Z")
            }
            notAfter = instant
        }
        let orderingKey = try optionalString(fields, "orderingKey")
        return Job(id: id, clientId: clientId, url: url, method: method, service: service, headers: headers, body: body,
                   maxAttempts: maxAttempts, timeoutMs: timeoutMs, notAfter: notAfter, orderingKey: orderingKey)
    }

    /// The id pattern of section 3: `[A-Za-z0-9._-]{1,128}`.
    public static func isValidId(_ text: String) -> Bool {
        let utf8 = text.utf8
        guard (1...128).contains(utf8.count) else { return false }
        return utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
    }

    private func decodeId(_ value: JSONValue?, fileName: String) throws(JobRejection) -> String {
        if let value {
            guard case .string(let id) = value else {
                throw JobRejection(.invalidJob, "field 'id' must be a string, not \(value.typeDescription)")
            }
            guard Self.isValidId(id) else {
                throw JobRejection(.invalidJob, "field 'id' must be 1 to 128 characters of A-Z a-z 0-9 . _ -")
            }
            return id
        }
        let stem = SpoolMover.originalStem(of: fileName)
        guard Self.isValidId(stem) else {
            throw JobRejection(.invalidJob, "field 'id' is missing and the file name is not a valid id "
                + "(1 to 128 characters of A-Z a-z 0-9 . _ - before .json); add an 'id' field or rename the file")
        }
        return stem
    }

    private func decodeMethod(_ value: JSONValue?) throws(JobRejection) -> HTTPMethod {
        guard let value else { return .post }
        guard case .string(let text) = value, let method = HTTPMethod(rawValue: text) else {
            throw JobRejection(.invalidJob, "field 'method' must be one of GET, POST, PUT, PATCH, DELETE")
        }
        return method
    }

    private func decodeHeaders(_ value: JSONValue?) throws(JobRejection) -> [HeaderField] {
        guard let value else { return [] }
        guard case .object(let members) = value else {
            throw JobRejection(.invalidJob, "field 'headers' must be an object of header names to string values")
        }
        var headers: [HeaderField] = []
        var seen = Set<String>()
        for (name, headerValue) in members {
            guard Self.isToken(name) else {
                throw JobRejection(.invalidJob, "field 'headers' has a name that is not an HTTP token: '\(Self.printable(name))'")
            }
            let lowered = name.lowercased()
            guard !reservedHeaders.contains(lowered) else {
                throw JobRejection(.invalidJob, "field 'headers.\(Self.printable(name))' is set by the dispatcher and may not be given in a job")
            }
            guard seen.insert(lowered).inserted else {
                throw JobRejection(.invalidJob, "field 'headers.\(Self.printable(name))' is given twice (header names are case-insensitive)")
            }
            guard case .string(let text) = headerValue else {
                throw JobRejection(.invalidJob, "field 'headers.\(Self.printable(name))' must be a string, not \(headerValue.typeDescription)")
            }
            guard !text.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0x00 }) else {
                throw JobRejection(.invalidJob, "field 'headers.\(Self.printable(name))' contains CR, LF or NUL")
            }
            headers.append(HeaderField(name: name, value: text))
        }
        return headers
    }

    private func decodeBody(_ fields: JobFields) throws(JobRejection) -> [UInt8]? {
        let text = try optionalString(fields, "body")
        let base64 = try optionalString(fields, "bodyBase64")
        switch (text, base64) {
        case (nil, nil):
            return nil
        case (let text?, nil):
            return Array(text.utf8)
        case (nil, let encoded?):
            guard let bytes = Base64.decode(encoded) else {
                throw JobRejection(.invalidJob, "field 'bodyBase64' is not valid base64")
            }
            return bytes
        case (.some, .some):
            throw JobRejection(.invalidJob, "fields 'body' and 'bodyBase64' are both given; use at most one")
        }
    }

    private func optionalString(_ fields: JobFields, _ name: String) throws(JobRejection) -> String? {
        guard let value = fields[name] else { return nil }
        guard case .string(let text) = value else {
            throw JobRejection(.invalidJob, "field '\(name)' must be a string, not \(value.typeDescription)")
        }
        return text
    }

    private func positiveInteger(_ fields: JobFields, _ name: String) throws(JobRejection) -> Int? {
        guard let value = fields[name] else { return nil }
        if case .number(let text) = value, text.count > 18, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            return Int.max   // larger than any limit: the configured one applies
        }
        guard let number = value.integerValue, number >= 1 else {
            throw JobRejection(.invalidJob, "field '\(name)' must be a whole number of at least 1")
        }
        return number
    }

    /// RFC 9110 `token`: the characters a header name may use.
    public static func isToken(_ text: String) -> Bool {
        guard !text.isEmpty else { return false }
        return text.utf8.allSatisfy { byte in
            switch byte {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
            case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
                 UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
                 UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
                return true
            default: return false
            }
        }
    }

    /// A field name safe to quote in a message: at most 64 characters, control characters shown as '?'.
    static func printable(_ text: String) -> String {
        let cleaned = String(text.unicodeScalars.prefix(64).map { $0.value < 0x20 || $0.value == 0x7F ? "?" : Character($0) })
        return text.unicodeScalars.count > 64 ? cleaned + "…" : cleaned
    }
}

/// A job object's members by name. The parser has already refused duplicates, and a job has
/// a handful of members: looking through them beats hashing each name into a dictionary.
struct JobFields {
    let members: [(key: String, value: JSONValue)]

    subscript(name: String) -> JSONValue? {
        members.first { $0.key == name }?.value
    }
}
