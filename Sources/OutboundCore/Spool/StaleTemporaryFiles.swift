/// The temporary files (`.tmp-PID-N`) that `FileSystem.writeAtomically` leaves behind when its
/// process is killed between creating one and renaming it into place: a retry's state, a
/// sidecar, a lane's marker, a list of down destinations. Names starting with `.` are no
/// jobs, so nothing reads them; `run` and `drain` remove those a minute old when they start
/// (no live writer takes that long between the two steps, and a process sharing the spool
/// may be writing one now).
struct StaleTemporaryFiles {
    let spool: Spool

    /// Where `writeAtomically` writes inside a spool.
    var folders: [String] {
        [spool.stateDirectory, LaneMarkers.folder(spool), DownDestinationsFile.folder(spool)]
            + [SpoolFolder.failed, .refused, .corrupt, .hold].map { spool.path($0) }
    }

    /// Removes the temporary files untouched for a minute (`OrphanRecovery.isAbandoned`);
    /// returns how many.
    @discardableResult
    func remove(now: Double) -> Int {
        var removed = 0
        for folder in folders {
            guard let names = try? DirectoryStream.names(in: folder) else { continue }
            for name in names where name.hasPrefix(FileSystem.temporaryPrefix) {
                let path = "\(folder)/\(name)"
                guard FileSystem.kind(of: path) == .regular, OrphanRecovery.isAbandoned(path, now: now) else { continue }
                if (try? FileSystem.remove(path)) != nil { removed += 1 }
            }
        }
        return removed
    }
}
