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

/// Carries out moves whose audit lines are already on disk: rename without replacing
/// (choosing a new name if another process took this one meanwhile), drop the state file,
/// then fsync each outcome folder touched once for the whole batch.
struct SpoolFiler {
    let folders: SpoolHandles
    let area: ClaimArea
    let stateStore: JobStateStore

    /// Returns the moves that failed (the job is still in the claim area, its line on disk):
    /// the caller tries them again.
    @discardableResult
    func perform(_ moves: [FileMove], directories: DirectorySyncer) -> [FileMove] {
        var failed: [FileMove] = []
        guard !moves.isEmpty else { return [] }
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
                    FileSystem.writeStandardError("outbound: spool error: \(error); the move is tried again\n")
                    failed.append(move)
                }
            }
        }
        // The outcome folders only: on a journalling file system their fsync commits the
        // whole rename, the claim folder's side included. Should the claim folder's side be
        // lost all the same, the job shows up there again and recovery sends it once more:
        // a duplicate, never a loss.
        for folder in touched.map({ folders[$0].path }) {
            do { try directories.sync(folder) } catch { FileSystem.writeStandardError("outbound: spool error: \(error)\n") }
        }
        return failed
    }
}
