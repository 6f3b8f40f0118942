/// Claiming in the intake: a batch of names renamed from incoming/ into the claim area.
extension IntakeWorker {
    /// Claims a batch by renames, taking turns with the filing thread; returns the names won.
    /// A name already in use in the claim area is left in incoming/ for a later pass.
    func claimAll(_ names: [String]) -> [String] {
        guard !names.isEmpty else { return [] }
        var won: [String] = []
        var inUse: [String] = []
        var failed: [String] = []
        area.folders.renameLock.withLock {
            for name in names {
                do {
                    switch try area.claim(name, from: .incoming) {
                    case .claimed:
                        won.append(name)
                        unreadNames.remove(name)
                    case .gone: unreadNames.remove(name)
                    case .nameInUse: inUse.append(name)
                    }
                    unclaimable.remove(name)
                } catch {
                    if !unclaimable.contains(name) {
                        FileSystem.writeStandardError("outbound: spool error: \(error); the job stays in incoming/\n")
                    }
                    failed.append(name)
                }
            }
        }
        let now = clock.now()
        for name in inUse {
            laterFiles[name] = now + Self.nameInUseRetrySeconds
            unreadNames.insert(name)
        }
        for name in failed {
            unclaimable.insert(name)
            unreadNames.insert(name)
            laterFiles[name] = now + Self.failedClaimRetrySeconds
        }
        return won
    }

    /// How long a job waits in incoming/ while a namesake is claimed.
    static let nameInUseRetrySeconds = 0.25
    /// How long a file whose claim failed waits before it is tried again.
    static let failedClaimRetrySeconds = 5.0
}
