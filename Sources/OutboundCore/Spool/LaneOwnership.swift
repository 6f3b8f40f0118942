/// Which process works the spool's ordered lanes (contract 14): the one holding the lock
/// `.state/lanes/owner.lock`. Every other process leaves jobs with an `orderingKey` in
/// incoming/ and deferred/ for it. When the owner dies the kernel drops its lock, and the
/// first process to try next (every recovery pass, at least every 5 s) takes the lanes over,
/// after the dead owner's claims are back in incoming/.
///
/// One owner for all lanes rather than one per lane: a lane handed between live processes
/// can have earlier jobs still unread in the new owner's listing of incoming/, or its retrying
/// head in deferred/ unknown to it; with one owner a lane changes hands only at a death, and
/// the taker starts from the folders (orphans put back, deferred/ read) like any recovery.
/// The price: a spool's lane traffic goes through one process.
final class LaneOwnership {
    let path: String
    private var lock: ExclusiveFileLock?

    init(spool: Spool) {
        path = "\(LaneMarkers.folder(spool))/owner.lock"
    }

    var isOwner: Bool { lock != nil }

    /// Tries to become the owner; true when this call made it so. The lock file names the
    /// claim folder of its holder; a taker asks `previousOwnerCleared` (with the lock held)
    /// whether that folder's jobs are back in incoming/. If not (the dead owner's claim lock
    /// can outlive its lane lock by a moment as the kernel closes its files), the lock is let
    /// go and taken at a later pass: taking the lanes earlier would send a lane's later job
    /// while an earlier one still sits in the dead owner's claim folder.
    func takeIfFree(ownArea: String, previousOwnerCleared: (String) -> Bool) throws -> Bool {
        guard lock == nil else { return false }
        try FileSystem.createDirectory(FileSystem.parentDirectory(of: path))
        guard let taken = try ExclusiveFileLock.tryAcquire(path) else { return false }
        let previous = taken.contents().trimmingASCIIWhitespace()
        if !previous.isEmpty, previous != ownArea, !previousOwnerCleared(previous) {
            taken.release()
            return false
        }
        try taken.replaceContents(with: ownArea + "\n")
        lock = taken
        return true
    }

    /// At a clean end: the lock file goes, and the lanes folder if nothing else is in it, so
    /// a spool whose lanes hold nothing keeps nothing in `.state/`.
    func release() {
        guard let lock else { return }
        lock.release(removing: true)
        self.lock = nil
        try? FileSystem.removeDirectory(FileSystem.parentDirectory(of: path))
    }
}
