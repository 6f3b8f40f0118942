/// Retry states (`.state/NAME`) of jobs that reached their final folder: the filing removes a
/// job's state right after its move, so a process killed between the two leaves it behind.
/// Such a state belongs to a file that is done, and a later job that happens to get the same
/// name and inode number would inherit its attempts. `run` and `drain` remove them when they
/// start: a state whose job (same name, same inode) is in `delivered/`, `failed/`, `refused/`
/// or `corrupt/`.
struct FiledJobStates {
    let spool: Spool
    let stateStore: JobStateStore

    static let finalFolders: [SpoolFolder] = [.delivered, .failed, .refused, .corrupt]

    /// Removes them; returns how many.
    @discardableResult
    func remove() -> Int {
        guard let names = try? DirectoryStream.names(in: stateStore.directory) else { return 0 }
        var removed = 0
        for name in names where Spool.isJobName(name) {
            // The usual case: the job waits in deferred/, and its state is live.
            if FileSystem.inode(of: spool.path(.deferred, name)) != nil { continue }
            for folder in Self.finalFolders {
                if stateStore.remove(name, ofFileAt: spool.path(folder, name)) {
                    removed += 1
                    break
                }
            }
        }
        return removed
    }
}
