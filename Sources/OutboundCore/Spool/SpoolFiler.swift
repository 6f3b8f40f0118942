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
/// then fsync each folder touched once for the whole batch.
struct SpoolFiler {
    let spool: Spool
    let area: ClaimArea
    let stateStore: JobStateStore

    func perform(_ moves: [FileMove], directories: DirectorySyncer) {
        guard !moves.isEmpty else { return }
        var touched = Set<String>()
        for move in moves {
            let folderPath = spool.path(move.to)
            var target = move.target
            do {
                do {
                    try FileSystem.rename(area.path(of: move.name), to: "\(folderPath)/\(target)", replacing: false)
                } catch let error as SystemError where error.isAlreadyExists {
                    target = try SpoolMover.freeName(for: move.name, in: folderPath)
                    try move.sidecar?.write(beside: target, in: folderPath)
                    try FileSystem.rename(area.path(of: move.name), to: "\(folderPath)/\(target)", replacing: false)
                }
                if move.clearsState { stateStore.remove(move.name) }
                touched.insert(folderPath)
            } catch {
                FileSystem.writeStandardError("outbound: spool error: \(error)\n")
            }
        }
        touched.insert(area.path)
        for folder in touched {
            do { try directories.sync(folder) } catch { FileSystem.writeStandardError("outbound: spool error: \(error)\n") }
        }
    }
}
