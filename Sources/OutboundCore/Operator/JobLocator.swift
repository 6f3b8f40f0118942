/// Finds the job an operator names on the command line: by file name (`x.json`), by folder
/// and file name (`failed/x.json`), or by id.
///
/// An id is looked up as the file name `ID.json` first (the default id is the file name);
/// only when no folder has that name are the folders read through for files with a clash
/// suffix (`ID~2.json`) or an `id` member of that value, since that costs a read of every job.
public struct JobLocator {
    public let spool: Spool

    public init(spool: Spool) {
        self.spool = spool
    }

    /// Every job file the argument names, in `SpoolFolder.searched` order; empty when none.
    public func locate(_ argument: String) -> [SpoolJob] {
        let parts = argument.split(separator: "/", omittingEmptySubsequences: true)
        if parts.count >= 2, let folder = SpoolFolder(operand: String(parts[parts.count - 2])) {
            let name = String(parts[parts.count - 1])
            return find(name, in: [folder])
        }
        if Spool.isJobName(argument) {
            return find(argument, in: SpoolFolder.searched)
        }
        let byName = find("\(argument).json", in: SpoolFolder.searched)
        if !byName.isEmpty { return byName }
        return scan(forId: argument)
    }

    private func find(_ name: String, in folders: [SpoolFolder]) -> [SpoolJob] {
        guard !name.contains("/") else { return [] }
        var found: [SpoolJob] = []
        for folder in folders {
            for directory in spool.jobDirectories(of: folder) where FileSystem.kind(of: "\(directory)/\(name)") == .regular {
                found.append(SpoolJob(folder: folder, name: name, directory: directory))
            }
        }
        return found
    }

    private func scan(forId id: String) -> [SpoolJob] {
        guard JobDecoder.isValidId(id) else { return [] }
        let needle = Array(id.utf8)
        var found: [SpoolJob] = []
        for folder in SpoolFolder.searched {
            for directory in spool.jobDirectories(of: folder) {
                guard let stream = try? DirectoryStream(directory) else { continue }
                while let name = stream.next() {
                    guard Spool.isJobName(name) else { continue }
                    let job = SpoolJob(folder: folder, name: name, directory: directory)
                    if SpoolMover.originalStem(of: name) == id {
                        found.append(job)
                        continue
                    }
                    guard case .contents(let bytes, _, _)? = try? FileSystem.readRegularFile(job.path, limit: 16 << 20),
                          bytes.contains(needle), let members = JSONMemberScanner.members(of: bytes),
                          JSONMemberScanner.string("id", in: members, of: bytes) == id else { continue }
                    found.append(job)
                }
            }
        }
        return found
    }
}

extension Array where Element == UInt8 {
    /// Whether `needle` occurs in these bytes.
    func contains(_ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= count else { return needle.isEmpty }
        let first = needle[0]
        var index = 0
        let last = count - needle.count
        while index <= last {
            if self[index] == first, self[index..<(index + needle.count)].elementsEqual(needle) { return true }
            index += 1
        }
        return false
    }
}
