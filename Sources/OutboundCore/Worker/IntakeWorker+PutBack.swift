/// Claims the intake gives back without a verdict: files not readable for now, and files
/// still young enough to be being written. Runs on the intake thread.
extension IntakeWorker {
    /// A claimed file that could not be read for a reason that may pass (EMFILE, ENOMEM, EIO):
    /// no verdict. It goes back to `incoming/` to be read again a second later, with a
    /// `spool_error` line; if even that fails it stays claimed and goes back at the stop.
    func putBackUnreadable(_ name: String, error: SystemError) -> IntakeResult? {
        do {
            let target = try SpoolMover.move(area.path(of: name), named: name, into: spool.path(.incoming))
            laterFiles[target] = clock.now() + 1.0
            audit.append(.spoolError(at: clock.now(), file: name, error: error, whereTo: "put back in incoming/ to be read again"))
        } catch {
            FileSystem.writeStandardError("outbound: spool error: \(error); the job stays claimed until this process stops\n")
            waitingForBytes.append(name)
        }
        return nil
    }

    /// A file that does not decode yet but was written less than a second ago may still be
    /// being written: it goes back to `incoming/` and is looked at again when a second old.
    func putBackYoung(_ name: String, modified: Double) -> IntakeResult? {
        do {
            let target = try SpoolMover.move(area.path(of: name), named: name, into: spool.path(.incoming))
            laterFiles[target] = modified + 1.0
        } catch {
            // Kept with the claims that go back at the stop, never left in the claim folder.
            FileSystem.writeStandardError("outbound: spool error: \(error); the job stays claimed until this process stops\n")
            waitingForBytes.append(name)
        }
        return nil
    }
}
