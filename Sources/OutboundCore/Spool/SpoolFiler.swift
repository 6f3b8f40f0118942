import Glibc

/// One job's move to the folder of its outcome, decided by the loop.
public struct FileMove: Sendable {
    /// The file name in the claim area.
    public let name: String
    public let to: SpoolFolder
    /// The name it gets there (differs from `name` only after a clash).
    public let target: String
    /// The sidecar already written beside `target`, rewritten if the name has to change.
    public let sidecar: ReasonSidecar?
    /// Whether the job's `.state/` file goes when it leaves.
    public let clearsState: Bool
}

/// What a batch of moves came to.
struct FilingResult {
    /// Moves that failed: the job is still in the claim area, its line on disk.
    var failed: [FileMove] = []
    /// Why the first of them failed.
    var moveError: SystemError?
    /// An outcome folder whose fsync failed after jobs were renamed into it: whether those
    /// renames are on disk is unknown, and a later fsync (the descriptor is dropped and a new
    /// one opened) may report success for metadata that is gone (Rebello et al., ATC'20).
    var syncFailure: SystemError?
}

/// Carries out moves whose audit lines are already on disk: rename without replacing
/// (choosing a new name if another process took this one meanwhile), drop the state file,
/// then fsync each outcome folder touched once for the whole batch.
struct SpoolFiler {
    let folders: SpoolHandles
    let area: ClaimArea
    let stateStore: JobStateStore

    /// Moves the jobs; the caller tries failed moves again and stops on a failed fsync.
    func perform(_ moves: [FileMove], directories: DirectorySyncer) -> FilingResult {
        var failed: [FileMove] = []
        var moveError: SystemError?
        guard !moves.isEmpty else { return FilingResult() }
        var touched: [SpoolFolder] = []
        folders.renameLock.withLock {
            for move in moves {
                let folder = folders[move.to]
                do {
                    do {
                        try area.folder(for: move.name).move(move.name, to: folder, as: move.target)
                    } catch let error as SystemError where error.isAlreadyExists {
                        let target = try SpoolMover.freeName(for: move.name, in: folder.path)
                        try move.sidecar?.write(beside: target, in: folder.path)
                        try area.folder(for: move.name).move(move.name, to: folder, as: target)
                    }
                    if move.clearsState { stateStore.remove(move.name) }
                    if !touched.contains(move.to) { touched.append(move.to) }
                } catch {
                    FileSystem.writeStandardError("outbound: spool error: \(error)\n")
                    failed.append(move)
                    moveError = moveError ?? (error as? SystemError ?? SystemError("rename", path: move.name, code: EIO))
                }
            }
        }
        // The outcome folders only: on a journalling file system their fsync commits the
        // whole rename, the claim folder's side included. Should the claim folder's side be
        // lost all the same, the job shows up there again and recovery sends it once more:
        // a duplicate, never a loss.
        var syncFailure: SystemError?
        for folder in touched.map({ folders[$0].path }) {
            do {
                try directories.sync(folder)
            } catch {
                // Reported by the caller, which stops the process.
                syncFailure = syncFailure ?? (error as? SystemError ?? SystemError("fsync folder", path: folder, code: EIO))
            }
        }
        return FilingResult(failed: failed, moveError: moveError, syncFailure: syncFailure)
    }
}
