/// Everything loaded from the config folder: settings and the client registry, taken in and
/// replaced together (a reload that fails anywhere keeps the whole old configuration).
public struct Configuration: Sendable, Equatable {
    public let directory: String
    public internal(set) var settings: Settings
    public let registry: ClientRegistry

    public init(directory: String, settings: Settings, registry: ClientRegistry) {
        self.directory = directory
        self.settings = settings
        self.registry = registry
    }

    public var gate: Gate { Gate(registry: registry, environment: settings.environment) }
}

/// A configuration problem, naming the file, the entry and the field, and what would fix it.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public let file: String
    public let entry: String?
    public let message: String

    public init(file: String, entry: String? = nil, _ message: String) {
        self.file = file
        self.entry = entry
        self.message = message
    }

    public var description: String {
        if let entry { return "\(file): \(entry): \(message)" }
        return "\(file): \(message)"
    }
}
