/// Walks spool folders for `list`, one job at a time: nothing is kept between jobs, so
/// 100,000 jobs cost no more memory than one.
public struct JobListing {
    /// The folders `list` shows when none is named: every one but `delivered/` (and `tmp/`).
    public static let defaultFolders: [SpoolFolder] = [.incoming, .active, .deferred, .hold, .failed, .refused, .corrupt]

    public let spool: Spool
    private let stateStore: JobStateStore

    public init(spool: Spool) {
        self.spool = spool
        stateStore = JobStateStore(spool: spool)
    }

    /// Calls `visit` with the summary of every job in `folders` that `filter` admits.
    public func forEach(in folders: [SpoolFolder], filter: JobFilter, _ visit: (JobSummary) -> Void) {
        for folder in folders {
            for directory in spool.jobDirectories(of: folder) {
                guard let stream = try? DirectoryStream(directory) else { continue }
                while let name = stream.next() {
                    guard Spool.isJobName(name) else { continue }
                    let summary = JobSummary.read(SpoolJob(folder: folder, name: name, directory: directory),
                                                  spool: spool, stateStore: stateStore)
                    if let clientId = filter.clientId, summary.clientId != clientId { continue }
                    if let reason = filter.reason, summary.sidecar?.reason != reason { continue }
                    if let olderThan = filter.olderThan, filter.now - (summary.modified ?? filter.now) < olderThan { continue }
                    visit(summary)
                }
            }
        }
    }
}

/// `list --ages`: how many jobs per client fall into each age bucket, qshape-style (Postfix's
/// queue-shape tool). A job's age is the time since its file was last modified.
public struct AgeHistogram {
    /// Upper bounds in minutes: a job younger than 1 minute counts under `1m`, one from 1 to 5
    /// minutes old under `5m`, and so on; one of 1280 minutes or more under `1280m+`.
    public static let boundsMinutes: [Double] = [1, 5, 10, 20, 40, 80, 160, 320, 640, 1280]
    public static var labels: [String] { boundsMinutes.map { "\(Int($0))m" } + ["1280m+"] }

    /// Counts per bucket, by client ID (`""` for a job whose client is unknown).
    public private(set) var rows: [String: [Int]] = [:]
    public private(set) var total = [Int](repeating: 0, count: boundsMinutes.count + 1)

    public init() {}

    public mutating func add(clientId: String?, ageSeconds: Double) {
        let minutes = ageSeconds / 60
        let bucket = Self.boundsMinutes.firstIndex { minutes < $0 } ?? Self.boundsMinutes.count
        rows[clientId ?? "", default: [Int](repeating: 0, count: Self.boundsMinutes.count + 1)][bucket] += 1
        total[bucket] += 1
    }

    /// Client IDs by job count, most first (qshape's order), then by ID.
    public var clientsByCount: [String] {
        rows.keys.sorted { left, right in
            let a = rows[left]!.reduce(0, +), b = rows[right]!.reduce(0, +)
            return a != b ? a > b : left.bytePrecedes(right)
        }
    }
}

/// The lines of the audit log about one job (`show`): the log read line by line, a line kept
/// when its `job` member is the job's id. Audit lines hold nothing secret by construction.
public enum AuditLineFinder {
    public static func lines(forJob id: String, inLog path: String) -> [[UInt8]] {
        var needle: [UInt8] = Array("\"job\":".utf8)
        JSONObjectWriter.appendQuoted(id, to: &needle)
        guard case .contents(let bytes, _, _)? = try? FileSystem.readFollowingLinks(path, limit: 1 << 30) else { return [] }
        var found: [[UInt8]] = []
        var start = 0
        while start < bytes.count {
            let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
            let line = Array(bytes[start..<end])
            if line.contains(needle) {
                // `"job":"x"` followed by `,` or `}`: not a longer id that starts the same.
                found.append(line)
            }
            start = end + 1
        }
        return found
    }
}
