/// Counts jobs per folder and the age of the oldest, for `outbound status`. Streams each
/// folder, so it costs no memory on a large spool.
public struct SpoolCensus: Sendable {
    /// One folder's line.
    public struct Entry: Sendable {
        public let folder: SpoolFolder
        public let count: Int
        /// Seconds since the oldest job's file was last modified; nil when empty.
        public let oldestAgeSeconds: Double?
    }

    public let entries: [Entry]

    public init(spool: Spool, now: Double) {
        entries = SpoolFolder.allCases.filter { $0 != .tmp }.map { folder in
            var count = 0
            var oldest: Double?
            var folders = [spool.path(folder)]
            if folder == .active {
                // Claims live in one subfolder per process, in its bucket subfolders.
                let areas = ((try? DirectoryStream.names(in: spool.path(.active))) ?? [])
                    .map { spool.path(.active, $0) }
                    .filter { FileSystem.kind(of: $0) == .directory }
                for area in areas { folders += (try? ClaimArea.jobFolders(in: area)) ?? [area] }
            }
            for path in folders {
                guard let stream = try? DirectoryStream(path) else { continue }
                while let name = stream.next() {
                    guard Spool.isJobName(name), let modified = FileSystem.modificationTime(of: "\(path)/\(name)") else { continue }
                    count += 1
                    oldest = min(oldest ?? modified, modified)
                }
            }
            return Entry(folder: folder, count: count, oldestAgeSeconds: oldest.map { max(0, now - $0) })
        }
    }
}
