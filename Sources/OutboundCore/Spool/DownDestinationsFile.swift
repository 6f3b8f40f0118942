import Glibc

/// What `status` shows of destinations that are down: each dispatcher process keeps its own
/// list in `.state/destinations/PROCESS` (PROCESS being its claim folder's name), one JSON
/// object a line, rewritten atomically whenever one of its circuits opens or closes and
/// removed when the process ends. Circuits live in each process's memory; this file is only
/// their window.
public struct DownDestinationsFile: Sendable {
    /// One destination that is down, as written and read back.
    public struct Entry: Sendable, Equatable {
        public let destination: String
        /// When its cooldown ends; nil while its probe is out.
        public let until: Double?
        public let failures: Int
        public let cooldownMs: Int
        /// The process that saw it go down.
        public let process: String
    }

    private let folder: String
    private let path: String

    public init(spool: Spool, process: String) {
        folder = Self.folder(spool)
        path = "\(folder)/\(process)"
    }

    static func folder(_ spool: Spool) -> String { "\(spool.stateDirectory)/destinations" }

    /// Rewrites the list (an empty list removes the file). A failure is reported, never fatal:
    /// only `status` reads it.
    func write(_ down: [(destination: Destination, until: Double?, failures: Int, cooldownMs: Int)]) {
        guard !down.isEmpty else { return remove() }
        var bytes: [UInt8] = []
        for entry in down {
            var line = JSONObjectWriter()
            line.add("destination", entry.destination.description)
            line.addTimestamp("until", entry.until)
            line.add("failures", entry.failures)
            line.add("cooldownMs", entry.cooldownMs)
            bytes += line.finish() + [0x0A]
        }
        do {
            try FileSystem.createDirectory(folder)
            try FileSystem.writeAtomically(bytes, to: path)
        } catch {
            FileSystem.writeStandardError("outbound: cannot record the destinations that are down for status: \(error)\n")
        }
    }

    func remove() {
        try? FileSystem.remove(path)
    }

    /// Every running process's destinations that are down, for `status`. Lists of processes
    /// whose claim folder is gone (they died and were recovered) are skipped.
    public static func read(spool: Spool) -> [Entry] {
        guard let names = try? DirectoryStream.names(in: folder(spool)) else { return [] }
        var entries: [Entry] = []
        for process in names.sorted() where !process.hasPrefix(".") {
            guard FileSystem.inode(of: spool.path(.active, process)) != nil,
                  case .contents(let bytes, _, _)? = try? FileSystem.readRegularFile("\(folder(spool))/\(process)", limit: 1 << 20)
            else { continue }
            for line in bytes.split(separator: 0x0A) {
                guard case .object(let fields)? = try? JSONParser.parse(Array(line)) else { continue }
                func string(_ key: String) -> String? {
                    if case .string(let value)? = fields.first(where: { $0.key == key })?.value { return value }
                    return nil
                }
                func number(_ key: String) -> Int? {
                    if case .number(let value)? = fields.first(where: { $0.key == key })?.value { return Int(value) }
                    return nil
                }
                guard let destination = string("destination") else { continue }
                entries.append(Entry(destination: destination, until: string("until").flatMap(Timestamp.parse),
                                     failures: number("failures") ?? 0, cooldownMs: number("cooldownMs") ?? 0, process: process))
            }
        }
        return entries
    }
}
