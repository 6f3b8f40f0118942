import Glibc

/// Streams a folder's entry names with opendir/readdir, one at a time, so a spool with a
/// million files costs no more memory than one with ten.
public final class DirectoryStream {
    private var handle: OpaquePointer?
    public let path: String
    /// Why the listing ended early: readdir(3) returned NULL with errno set. Nil after a
    /// listing that reached the end of the folder.
    public private(set) var failure: SystemError?

    public init(_ path: String) throws {
        self.path = path
        guard let handle = opendir(path) else { throw SystemError("open folder", path: path) }
        self.handle = handle
    }

    /// The next entry's name (never "." or ".."), or nil at the end of the folder.
    public func next() -> String? {
        while let entry = nextEntry() {
            if case .name(let name) = entry { return name }
        }
        return nil
    }

    /// A folder entry: its name, or its raw bytes when they are not valid UTF-8 (such a name
    /// cannot be spelled as a Swift String, and a repaired spelling would name no file).
    public enum Entry {
        case name(String)
        case undecodable([UInt8])
    }

    /// The next entry (never "." or ".."), or nil at the end of the folder.
    public func nextEntry() -> Entry? {
        while let handle {
            // readdir returns NULL both at the end and on error; only errno tells them apart.
            errno = 0
            guard let entry = readdir(handle) else {
                if errno != 0 { failure = SystemError("list folder", path: path, code: errno) }
                break
            }
            let raw: [UInt8] = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            if raw == [0x2E] || raw == [0x2E, 0x2E] { continue }
            guard let name = String(validating: raw, as: UTF8.self) else { return .undecodable(raw) }
            return .name(name)
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
        if let failure = stream.failure { throw failure }
        return names
    }
}
