import COutbound
import Glibc
import Synchronization

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
        // withCString lends each name's bytes; a String passed as a C string is first
        // copied into a fresh array, four times per job over its two moves.
        let result = name.withCString { from in
            newName.withCString { to in
                replacing ? renameat(descriptor, from, target.descriptor, to)
                          : outbound_renameat_noreplace(descriptor, from, target.descriptor, to)
            }
        }
        guard result == 0 else {
            throw SystemError("rename '\(path)/\(name)' to", path: "\(target.path)/\(newName)")
        }
    }

    /// Reads the regular file `name` in this folder (see `FileSystem.readRegularFile`).
    public func readRegularFile(_ name: String, limit: Int, admit: (Int) -> Bool = { _ in true }) throws -> FileSystem.ReadResult {
        try FileSystem.readRegularFile(path: "\(path)/\(name)", limit: limit, admit: admit) {
            name.withCString { name in openForReading { flags in openat(descriptor, name, flags) } }
        }
    }

    /// Opens for reading, without touching the file's access time where the kernel allows it
    /// (O_NOATIME: the file's owner, or root). The claim's rename has just changed the file's
    /// ctime, so with `relatime` every read would otherwise dirty the inode once more, a cost
    /// per job. When the files belong to another user (upstream writers usually run as one),
    /// the kernel refuses with EPERM: the file is opened the plain way and this folder stops
    /// asking.
    func openForReading(_ open: (Int32) -> Int32) -> Int32 {
        let flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK
        if noAccessTime.load(ordering: .relaxed) {
            let fd = open(flags | outbound_o_noatime())
            if fd >= 0 || errno != EPERM { return fd }
            noAccessTime.store(false, ordering: .relaxed)
        }
        return open(flags)
    }

    private let noAccessTime = Atomic<Bool>(true)
}
