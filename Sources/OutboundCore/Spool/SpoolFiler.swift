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
    /// For a move into `deferred/`: when the job is due again, and the lane it holds.
    var retry: RetryDue? = nil
}

/// What a batch of moves came to.
struct FilingResult {
    /// Moves that failed: the job is still in the claim area, its line on disk.
    var failed: [FileMove] = []
    /// Why the first of them failed.
    var moveError: SystemError?
    /// Moves into `deferred/`, made (`filed`) or failed (`unmoved`, not among `failed`: the
    /// loop deals with them at once, see `Dispatcher.recordDeferralProgress`).
    var deferrals = DeferralProgress()
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
        var result = FilingResult()
        guard !moves.isEmpty else { return result }
        var touched: [SpoolFolder] = []
        var statesRenamed = false
        folders.renameLock.withLock {
            for move in moves {
                let folder = folders[move.to]
                do {
                    var target = move.target
                    do {
                        try area.folder(for: move.name).move(move.name, to: folder, as: target)
                    } catch let error as SystemError where error.isAlreadyExists {
                        // A retry's state follows it to the new name, which must be free in
                        // `.state/` too.
                        if let retry = move.retry {
                            target = try stateStore.freeName(for: move.name, in: folder.path, forFileWithInode: retry.stateInode)
                        } else {
                            target = try SpoolMover.freeName(for: move.name, in: folder.path)
                        }
                        try move.sidecar?.write(beside: target, in: folder.path)
                        try area.folder(for: move.name).move(move.name, to: folder, as: target)
                        // A retry's state was saved under the name it was to have.
                        if move.retry != nil {
                            stateStore.rename(move.target, to: target, forFileAt: "\(folder.path)/\(target)")
                            statesRenamed = true
                        }
                    }
                    if move.clearsState { stateStore.remove(move.name) }
                    if let retry = move.retry { result.deferrals.filed.append((move.target, target, retry)) }
                    if !touched.contains(move.to) { touched.append(move.to) }
                } catch {
                    FileSystem.writeStandardError("outbound: spool error: \(error)\n")
                    let failure = SystemError(error, otherwise: "rename", path: move.name)
                    if move.retry != nil {
                        result.deferrals.unmoved.append((move, failure))
                    } else {
                        result.failed.append(move)
                        result.moveError = result.moveError ?? failure
                    }
                }
            }
        }
        // The outcome folders only: on a journalling file system their fsync commits the
        // whole rename, the claim folder's side included. Should the claim folder's side be
        // lost all the same, the job shows up there again and recovery sends it once more:
        // a duplicate, never a loss.
        let synced = touched.map { folders[$0].path } + (statesRenamed ? [stateStore.directory] : [])
        for folder in synced {
            do {
                try directories.sync(folder)
            } catch {
                // Reported by the caller, which stops the process.
                result.syncFailure = result.syncFailure ?? SystemError(error, otherwise: "fsync folder", path: folder)
            }
        }
        return result
    }

    /// Saves a deferral's state under the first name free for it both in `deferred/` and in
    /// `.state/`; the name. Another process may save a state under the same name between the
    /// look and the save: the save then fails with EEXIST (it never replaces another job's
    /// state) and the next free name is taken.
    private func nameWithItsState(_ deferral: Deferral) throws -> String {
        var clashes = 0
        while true {
            let target = try stateStore.freeName(for: deferral.name, in: folders[.deferred].path, forFileWithInode: deferral.state.inode)
            do {
                try stateStore.save(deferral.state, for: target)
                return target
            } catch let error as SystemError where error.isAlreadyExists && clashes < 5 {
                clashes += 1
            }
        }
    }

    /// The first step of setting jobs aside, before their `deferred` lines: each job's state
    /// saved (and fsynced) under the name it will have in `deferred/`, then the state folder
    /// fsynced once for all of them. A job whose state is not on disk gets no line.
    func saveStates(_ deferrals: [Deferral], directories: DirectorySyncer) -> DeferralProgress {
        var progress = DeferralProgress()
        for deferral in deferrals {
            do {
                let target = try nameWithItsState(deferral)
                progress.saved.append((deferral, target))
            } catch {
                progress.unsaved.append((deferral, SystemError(error, otherwise: "write", path: deferral.name)))
            }
        }
        guard !progress.saved.isEmpty else { return progress }
        do {
            try directories.sync(stateStore.directory)
        } catch {
            // Whether any of them is on disk is unknown: none of them is set aside.
            let failure = SystemError(error, otherwise: "fsync folder", path: stateStore.directory)
            progress.unsaved += progress.saved.map { ($0.deferral, failure) }
            progress.saved.removeAll()
        }
        return progress
    }
}
