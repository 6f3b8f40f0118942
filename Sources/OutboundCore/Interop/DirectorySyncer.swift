import Glibc

/// fsyncs folders through descriptors it keeps open, so a commit costs one fsync per folder
/// and no open/close. One per thread; not thread-safe.
final class DirectorySyncer {
    private var descriptors: [String: Int32] = [:]

    deinit {
        for fd in descriptors.values { close(fd) }
    }

    func sync(_ path: String) throws {
        let fd: Int32
        if let open = descriptors[path] {
            fd = open
        } else {
            fd = try systemCall("open folder", path: path) { open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
            descriptors[path] = fd
        }
        do {
            try systemCall("fsync folder", path: path) { fsync(fd) }
        } catch {
            // The folder may have been replaced (a claim area dissolved): open it afresh next time.
            close(fd)
            descriptors[path] = nil
            throw error
        }
    }
}
