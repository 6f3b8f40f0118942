import Dispatch

/// Removes the sidecars of requeued jobs in the background, batch after batch, while the
/// requeue goes on moving the next batch; `wait()` returns once every one handed over is gone.
///
/// An `unlink` of a file with data can wait on the disk (on a file system mounted with
/// `discard`, ext4 discards the freed block before it returns): overlapped with the next
/// batch's reads and renames, that wait no longer adds to the command's time. Removing a
/// sidecar late is safe: its job has already left the folder, and a dispatcher filing the
/// job there again sees the old sidecar still present and takes a `~N` name.
final class SidecarRemoval {
    /// One batch at a time, in order; each batch is removed four at a time.
    private let queue = DispatchQueue(label: "outbound.sidecar-removal")
    private let pending = DispatchGroup()

    func remove(_ paths: [String]) {
        guard !paths.isEmpty else { return }
        queue.async(group: pending) { FileSystem.removeConcurrently(paths) }
    }

    /// Blocks until every batch handed over has been removed.
    func wait() {
        pending.wait()
    }
}
