/// Reads and checks `outbound.json` and `clients.json` from a config folder.
///
/// Strict on purpose: an unknown field is usually a typo that would otherwise silently
/// fall back to a default, so it is an error naming the file and the entry.
public struct ConfigLoader {
    public static let settingsFileName = "outbound.json"
    public static let clientsFileName = "clients.json"

    public let directory: String
    /// Relative paths in `outbound.json` (`auditLog`) are taken from here.
    public let spoolDirectory: String

    public init(directory: String, spoolDirectory: String) {
        self.directory = directory
        self.spoolDirectory = spoolDirectory
    }

    public func load() throws(ConfigError) -> Configuration {
        let settings = try loadSettings()
        let registry = try loadClients()
        return Configuration(directory: directory, settings: settings, registry: registry)
    }

    // MARK: outbound.json

    private static let settingsFields: Set<String> = [
        "environment", "clientIdHeader", "idempotencyHeader", "concurrency", "perHostConcurrency",
        "connectTimeoutMs", "timeoutMs", "retry", "tls", "auditLog", "maxJobBytes", "maxClaimedBytes", "circuit", "lanes",
    ]

    /// The largest `maxClaimedBytes`: 64 GiB, far above any machine this runs on, so a larger
    /// value is a typo (an extra digit), not a wish.
    static let maxClaimedBytesLimit = 64 << 30
    /// The largest `circuit.failureThreshold`: a destination failing a thousand times in a row
    /// is down; a larger threshold is the breaker turned off by accident (0 turns it off).
    static let failureThresholdLimit = 1000

    /// Headers that belong to HTTP framing and can never carry the client ID or idempotency key.
    static let transportHeaders: Set<String> = ["host", "content-length", "transfer-encoding", "connection", "expect"]

    func loadSettings() throws(ConfigError) -> Settings {
        let file = "\(directory)/\(Self.settingsFileName)"
        let object = try readObject(file)
        let reader = FieldReader(file: file, entry: nil, members: object)
        try reader.rejectUnknown(Self.settingsFields)
        guard let environmentText = try reader.string("environment") else {
            throw ConfigError(file: file, "field 'environment' is required (\"production\" or \"non-production\")")
        }
        guard let environment = Environment(rawValue: environmentText) else {
            throw ConfigError(file: file, "field 'environment' must be \"production\" or \"non-production\"")
        }
        var settings = Settings(environment: environment, auditLogPath: "\(spoolDirectory)/audit.jsonl")
        if let header = try reader.string("clientIdHeader") {
            guard JobDecoder.isToken(header), !Self.transportHeaders.contains(header.lowercased()) else {
                throw ConfigError(file: file, "field 'clientIdHeader' must be an HTTP header name other than Host, Content-Length, "
                    + "Transfer-Encoding, Connection and Expect")
            }
            settings.clientIdHeader = header
        }
        switch reader.members["idempotencyHeader"] {
        case nil: break
        case .null?: settings.idempotencyHeader = nil
        case .string(let header)?:
            guard JobDecoder.isToken(header), !header.caseInsensitiveEquals(settings.clientIdHeader),
                  !Self.transportHeaders.contains(header.lowercased()) else {
                throw ConfigError(file: file, "field 'idempotencyHeader' must be an HTTP header name other than clientIdHeader, "
                    + "Host, Content-Length, Transfer-Encoding, Connection and Expect, or null")
            }
            settings.idempotencyHeader = header
        case let other?:
            throw ConfigError(file: file, "field 'idempotencyHeader' must be a string or null, not \(other.typeDescription)")
        }
        settings.concurrency = try reader.integer("concurrency", in: 1...4096) ?? settings.concurrency
        settings.perHostConcurrency = try reader.integer("perHostConcurrency", in: 1...4096) ?? settings.perHostConcurrency
        settings.connectTimeoutMs = try reader.integer("connectTimeoutMs", in: 1...3_600_000) ?? settings.connectTimeoutMs
        settings.timeoutMs = try reader.integer("timeoutMs", in: 1...86_400_000) ?? settings.timeoutMs
        settings.maxJobBytes = try reader.integer("maxJobBytes", in: 1...(1 << 30)) ?? settings.maxJobBytes
        settings.maxClaimedBytes = try reader.integer("maxClaimedBytes", in: 1...Self.maxClaimedBytesLimit) ?? settings.maxClaimedBytes
        if let circuit = try reader.object("circuit") {
            let circuitReader = FieldReader(file: file, entry: "circuit", members: circuit)
            try circuitReader.rejectUnknown(["failureThreshold", "cooldownMs"])
            settings.circuit.failureThreshold = try circuitReader.integer("failureThreshold", in: 0...Self.failureThresholdLimit)
                ?? settings.circuit.failureThreshold
            settings.circuit.cooldownMs = try circuitReader.integer("cooldownMs", in: 1...86_400_000) ?? settings.circuit.cooldownMs
        }
        if let lanes = try reader.object("lanes") {
            let lanesReader = FieldReader(file: file, entry: "lanes", members: lanes)
            try lanesReader.rejectUnknown(["onFailure"])
            if let text = try lanesReader.string("onFailure") {
                guard let policy = LaneFailurePolicy(rawValue: text) else {
                    throw ConfigError(file: file, entry: "lanes", "field 'onFailure' must be \"block\" or \"skip\"")
                }
                settings.laneOnFailure = policy
            }
        }
        if let auditLog = try reader.string("auditLog") {
            guard !auditLog.isEmpty else { throw ConfigError(file: file, "field 'auditLog' must not be empty") }
            settings.auditLogPath = auditLog.hasPrefix("/") ? auditLog : "\(spoolDirectory)/\(auditLog)"
        }
        if let retry = try reader.object("retry") {
            let retryReader = FieldReader(file: file, entry: "retry", members: retry)
            try retryReader.rejectUnknown(["maxAttempts", "baseDelayMs", "maxDelayMs", "maxAgeSeconds"])
            settings.retry.maxAttempts = try retryReader.integer("maxAttempts", in: 1...1000) ?? settings.retry.maxAttempts
            settings.retry.baseDelayMs = try retryReader.integer("baseDelayMs", in: 1...86_400_000) ?? settings.retry.baseDelayMs
            settings.retry.maxDelayMs = try retryReader.integer("maxDelayMs", in: 1...86_400_000) ?? settings.retry.maxDelayMs
            settings.retry.maxAgeSeconds = try retryReader.integer("maxAgeSeconds", in: 1...31_536_000) ?? settings.retry.maxAgeSeconds
            guard settings.retry.baseDelayMs <= settings.retry.maxDelayMs else {
                throw ConfigError(file: file, entry: "retry", "field 'baseDelayMs' must not exceed 'maxDelayMs'")
            }
        }
        if let tls = try reader.object("tls") {
            let tlsReader = FieldReader(file: file, entry: "tls", members: tls)
            try tlsReader.rejectUnknown(["caFile"])
            if case .null? = tlsReader.members["caFile"] {
                settings.caFile = nil
            } else if let caFile = try tlsReader.string("caFile") {
                settings.caFile = try existingFile(caFile, file: file, entry: "tls", field: "caFile")
            }
        }
        return settings
    }

    // MARK: clients.json

    private static let clientFields: Set<String> = [
        "clientId", "application", "environment", "status", "scopes", "endpoints", "tls", "auth",
    ]

    func loadClients() throws(ConfigError) -> ClientRegistry {
        let file = "\(directory)/\(Self.clientsFileName)"
        let object = try readObject(file)
        let top = FieldReader(file: file, entry: nil, members: object)
        try top.rejectUnknown(["clients"])
        guard case .array(let entries)? = top.members["clients"] else {
            throw ConfigError(file: file, "field 'clients' is required and must be an array of client records")
        }
        var records: [ClientRecord] = []
        var seen: [String: Int] = [:]
        for (index, entry) in entries.enumerated() {
            var label = "clients[\(index)]"
            guard case .object(let members) = entry else {
                throw ConfigError(file: file, entry: label, "each client record must be an object")
            }
            if case .string(let clientId)? = members.first(where: { $0.key == "clientId" })?.value {
                label += " (clientId \(clientId))"
            }
            let reader = FieldReader(file: file, entry: label, members: members)
            try reader.rejectUnknown(Self.clientFields)
            guard let clientId = try reader.string("clientId"), !clientId.isEmpty else {
                throw ConfigError(file: file, entry: label, "field 'clientId' is required and must not be empty")
            }
            if let earlier = seen[clientId] {
                throw ConfigError(file: file, entry: label, "clientId is a duplicate of clients[\(earlier)]; each client ID may appear once")
            }
            seen[clientId] = index
            let application = try reader.string("application") ?? clientId
            guard let environmentText = try reader.string("environment"), let environment = Environment(rawValue: environmentText) else {
                throw ConfigError(file: file, entry: label, "field 'environment' must be \"production\" or \"non-production\"")
            }
            guard let statusText = try reader.string("status"), let status = ClientStatus(rawValue: statusText) else {
                throw ConfigError(file: file, entry: label, "field 'status' must be \"active\" or \"inactive\"")
            }
            var scopes: Set<String>?
            if let list = try reader.stringArray("scopes") {
                scopes = Set(list)
            }
            guard let endpointTexts = try reader.stringArray("endpoints"), !endpointTexts.isEmpty else {
                throw ConfigError(file: file, entry: label, "field 'endpoints' is required: a non-empty array of URL prefixes")
            }
            var endpoints: [Endpoint] = []
            for text in endpointTexts {
                do {
                    let url = try TargetURLParser.parse(text)
                    guard url.query == nil else {
                        throw ConfigError(file: file, entry: label, "endpoint '\(text)' must not have a query string")
                    }
                    endpoints.append(Endpoint(url: url))
                } catch let error as ConfigError {
                    throw error
                } catch {
                    throw ConfigError(file: file, entry: label, "endpoint '\(text)' \(error)")
                }
            }
            var certFile: String?
            var keyFile: String?
            if let tls = try reader.object("tls") {
                let tlsReader = FieldReader(file: file, entry: "\(label) tls", members: tls)
                try tlsReader.rejectUnknown(["certFile", "keyFile"])
                guard let cert = try tlsReader.string("certFile"), let key = try tlsReader.string("keyFile") else {
                    throw ConfigError(file: file, entry: label, "field 'tls' needs both 'certFile' and 'keyFile'")
                }
                certFile = try existingFile(cert, file: file, entry: label, field: "tls.certFile")
                keyFile = try existingFile(key, file: file, entry: label, field: "tls.keyFile")
            }
            var auth: OAuthClientAuth?
            if let authMembers = try reader.object("auth") {
                auth = try OAuthConfigReader(directory: directory, file: file, entry: label).read(authMembers)
            }
            records.append(ClientRecord(clientId: clientId, application: application, environment: environment, status: status,
                                        scopes: scopes, endpoints: endpoints, certFile: certFile, keyFile: keyFile, auth: auth))
        }
        return ClientRegistry(records)
    }

    // MARK: helpers

    /// The largest configuration file read: a `clients.json` of tens of thousands of records
    /// fits many times over; anything larger is a mistake, not a configuration.
    public static let maxFileBytes = 16 << 20

    private func readObject(_ file: String) throws(ConfigError) -> [(key: String, value: JSONValue)] {
        let bytes: [UInt8]
        do {
            switch try FileSystem.readFollowingLinks(file, limit: Self.maxFileBytes) {
            case .contents(let contents, _, _):
                bytes = contents
            case .tooLarge(let size, _):
                throw ConfigError(file: file, "the file has \(size) bytes or more; configuration files may have at most \(Self.maxFileBytes) (16 MiB)")
            case .notRegularFile, .notAdmitted:
                if FileSystem.isDirectory(file) {
                    throw ConfigError(file: file, "a folder, not a file; it must be a JSON file or a symlink to one")
                }
                throw ConfigError(file: file, "not a regular file (a folder, a device or a FIFO); it must be a JSON file or a symlink to one")
            }
        } catch let error as ConfigError {
            throw error
        } catch let error as SystemError where error.isNotFound {
            if FileSystem.isDanglingLink(file) {
                throw ConfigError(file: file, "a symlink whose target does not exist; point it at the configuration file")
            }
            throw ConfigError(file: file, "the file does not exist; create it (see Config/ in the Outbound repository for a sample)")
        } catch let error as SystemError where error.errno.name == "EISDIR" {
            throw ConfigError(file: file, "a folder, not a file; it must be a JSON file or a symlink to one")
        } catch let error as SystemError where error.errno.name == "EACCES" {
            throw ConfigError(file: file, "cannot be read by this user (permission denied); make it readable by the user Outbound runs as")
        } catch {
            throw ConfigError(file: file, "\(error)")
        }
        let document: JSONValue
        do {
            document = try JSONParser.parse(bytes)
        } catch {
            throw ConfigError(file: file, "not valid JSON: \(error)")
        }
        guard case .object(let members) = document else {
            throw ConfigError(file: file, "the file must hold one JSON object")
        }
        return members
    }

    /// Resolves a path relative to the config folder and checks that it is a readable file.
    private func existingFile(_ path: String, file: String, entry: String?, field: String) throws(ConfigError) -> String {
        let absolute = path.hasPrefix("/") ? path : "\(directory)/\(path)"
        let kind = FileSystem.kind(of: absolute)
        guard kind == .regular || kind == .symbolicLink,
              FileSystem.isReadable(absolute) else {
            throw ConfigError(file: file, entry: entry, "field '\(field)': '\(absolute)' is not a readable file")
        }
        return absolute
    }
}

/// Reads typed fields of one JSON object, with errors that name the file, entry and field.
struct FieldReader {
    let file: String
    let entry: String?
    let members: [String: JSONValue]
    private let order: [String]

    init(file: String, entry: String?, members: [(key: String, value: JSONValue)]) {
        self.file = file
        self.entry = entry
        var dictionary: [String: JSONValue] = [:]
        for member in members { dictionary[member.key] = member.value }
        self.members = dictionary
        self.order = members.map(\.key)
    }

    func fail(_ message: String) -> ConfigError {
        ConfigError(file: file, entry: entry, message)
    }

    func rejectUnknown(_ known: Set<String>) throws(ConfigError) {
        if let unknown = order.first(where: { !known.contains($0) }) {
            throw fail("unknown field '\(JobDecoder.printable(unknown))' (known fields: \(known.sorted().joined(separator: ", ")))")
        }
    }

    func string(_ name: String) throws(ConfigError) -> String? {
        guard let value = members[name] else { return nil }
        guard case .string(let text) = value else { throw fail("field '\(name)' must be a string, not \(value.typeDescription)") }
        return text
    }

    func integer(_ name: String, in range: ClosedRange<Int>) throws(ConfigError) -> Int? {
        guard let value = members[name] else { return nil }
        guard let number = value.integerValue, range.contains(number) else {
            throw fail("field '\(name)' must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    func object(_ name: String) throws(ConfigError) -> [(key: String, value: JSONValue)]? {
        guard let value = members[name] else { return nil }
        guard case .object(let members) = value else { throw fail("field '\(name)' must be an object, not \(value.typeDescription)") }
        return members
    }

    func stringArray(_ name: String) throws(ConfigError) -> [String]? {
        guard let value = members[name] else { return nil }
        guard case .array(let elements) = value else { throw fail("field '\(name)' must be an array of strings") }
        var strings: [String] = []
        for element in elements {
            guard case .string(let text) = element else { throw fail("field '\(name)' must be an array of strings") }
            strings.append(text)
        }
        return strings
    }
}
