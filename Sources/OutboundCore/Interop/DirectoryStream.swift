import Glibc

/// Streams a folder's entry names with opendir/readdir, one at a time, so a spool with a
/// million files costs no more memory than one with ten.
public final class DirectoryStream {
    private var handle: OpaquePointer?
    public let path: String

    public init(_ path: String) throws {
        self.path = path
        guard let handle = opendir(path) else { throw SystemError("open folder", path: path) }
        self.handle = handle
    }

    /// The next entry's name (never "." or ".."), or nil at the end of the folder.
    public func next() -> String? {
        while let handle, let entry = readdir(handle) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            return name
        }
        close()
        return nil
    }

    public func close() {
        if let handle { closedir(handle) }
        handle = nil
    }

    deinit { close() }

    /// All names in a folder (for small folders: `active/`, the state of one claim area).
    public static func names(in path: String) throws -> [String] {
        let stream = try DirectoryStream(path)
        var names: [String] = []
        while let name = stream.next() { names.append(name) }
        return names
    }
}
