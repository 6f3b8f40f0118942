import COutbound
import Glibc

/// An open spool folder: renames and reads name files relative to its descriptor, so a job's
/// move costs no walk of the folder's path, and builds no path string, on every call.
///
/// The descriptor stays on the folder it was opened on. If an operator replaced the folder
/// while the process runs, moves into the old one fail with an error that names it (the
/// kernel refuses new entries in a removed folder); nothing lands where it cannot be found.
public final class DirectoryHandle: Sendable {
    public let path: String
    let descriptor: Int32

    public init(_ path: String) throws {
        self.path = path
        descriptor = try systemCall("open folder", path: path) { open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
    }

    deinit { close(descriptor) }

    /// Moves `name` from this folder into `target` as `newName` (rename(2) within one file
    /// system), never replacing an existing entry unless `replacing`.
    public func move(_ name: String, to target: DirectoryHandle, as newName: String, replacing: Bool = false) throws {
        let result = replacing ? renameat(descriptor, name, target.descriptor, newName)
                               : outbound_renameat_noreplace(descriptor, name, target.descriptor, newName)
        guard result == 0 else {
            throw SystemError("rename '\(path)/\(name)' to", path: "\(target.path)/\(newName)")
        }
    }

    /// Reads the regular file `name` in this folder (see `FileSystem.readRegularFile`).
    public func readRegularFile(_ name: String, limit: Int) throws -> FileSystem.ReadResult {
        try FileSystem.readRegularFile(path: "\(path)/\(name)", limit: limit) {
            openat(descriptor, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        }
    }
}
