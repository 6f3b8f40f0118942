/// A job file found in the spool by an operator command: which folder, which name, and the
/// directory that holds it (a claim folder's bucket for a job in `active/`).
public struct SpoolJob: Sendable, Equatable {
    public let folder: SpoolFolder
    public let name: String
    /// The path of the directory the file is in.
    public let directory: String

    public init(folder: SpoolFolder, name: String, directory: String) {
        self.folder = folder
        self.name = name
        self.directory = directory
    }

    public var path: String { "\(directory)/\(name)" }

    /// `failed/x.json`, as messages name it (a claim shows as `active/x.json`).
    public var displayName: String { "\(folder.rawValue)/\(name)" }
}

extension SpoolFolder {
    /// The folders an operator command looks in for a job (every one but `tmp/`).
    public static let searched: [SpoolFolder] = [.incoming, .active, .deferred, .hold, .delivered, .failed, .refused, .corrupt]

    /// The folder named `text` (`failed` or `failed/`), if it is one of the spool's.
    public init?(operand text: String) {
        var name = Substring(text)
        while name.hasSuffix("/") { name = name.dropLast() }
        self.init(rawValue: String(name))
    }
}

extension Spool {
    /// The directories that hold jobs of `folder`: the folder itself, and for `active/` every
    /// claim folder and its buckets (read only; operator commands never move a claim).
    public func jobDirectories(of folder: SpoolFolder) -> [String] {
        guard folder == .active else { return [path(folder)] }
        var directories: [String] = [path(.active)]
        for entry in (try? DirectoryStream.names(in: path(.active))) ?? [] {
            let area = path(.active, entry)
            if FileSystem.kind(of: area) == .directory { directories += (try? ClaimArea.jobFolders(in: area)) ?? [area] }
        }
        return directories
    }
}
