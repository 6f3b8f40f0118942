import OutboundCore

/// `outbound purge`: delete finished jobs past an age, on the record.
enum PurgeCommand: CommandDefinition {
    static let summary = "delete old jobs (with sidecars and state) from delivered/, failed/, refused/, corrupt/"
    static let options: [OptionSpec] = [
        .value("--older-than", "DURATION"), .value("--client", "ID"), .value("--reason", "REASON"), .flag("--dry-run"),
    ]
    static let takesOperands = true

    static let help = """
    Usage: outbound purge FOLDER... --older-than DURATION [--client ID] [--reason R] [--dry-run]

    Deletes the jobs of FOLDER (delivered, failed, refused or corrupt only) whose file was
    last modified more than DURATION ago (90d, 12h, 30m; renames keep a file's time, as
    'find -mtime' sees it), with their .reason sidecars and retry state. A 'purged' line
    for each job is written to the audit log before it is deleted.

    Options:
      --older-than DURATION  required: only jobs older than this
      --client ID            only jobs of this client ID
      --reason R             only jobs whose sidecar has this reason
      --dry-run              print how many would go, delete nothing
    \(HelpText.common)

    Exit status: 0 done, 64 usage (no --older-than, a bad duration, or a folder other
    than the four above: incoming/ and deferred/ are never purged), 74 audit log
    unwritable, 78 bad config.
    """

    static func execute(_ invocation: Invocation, context: CommandContext) throws(CommandFailure) -> ExitCode {
        guard !invocation.operands.isEmpty else {
            throw CommandFailure(code: .usage, message: "purge needs at least one FOLDER: delivered, failed, refused or corrupt")
        }
        let folders = try invocation.spoolFolders(invocation.operands, option: "FOLDER")
        for folder in folders where !Purger.folders.contains(folder) {
            throw CommandFailure(code: .usage, message: "purge deletes jobs only from delivered/, failed/, refused/ and corrupt/, "
                + "not from \(folder.rawValue)/ (move them there first, or requeue them)")
        }
        guard invocation.value("--older-than") != nil else {
            throw CommandFailure(code: .usage, message: "purge needs --older-than DURATION (for example 90d); nothing was deleted")
        }
        let filter = try invocation.jobFilter(now: SystemClock().now())
        let spool = invocation.spoolTree
        let jobs = JobSelector(spool: spool).select(from: folders, filter: filter)
        let output = BufferedOutput()
        defer { output.flush() }
        if invocation.has("--dry-run") {
            output.line("would purge \(jobs.count) job\(jobs.count == 1 ? "" : "s") (dry run: nothing deleted)")
            return .ok
        }
        let audit = try invocation.openOperatorAudit()
        var failures = 0
        let purged: Int
        do {
            purged = try Purger(spool: spool, audit: audit).purge(jobs) { job, problem in
                if let problem {
                    failures += 1
                    FileSystem.writeStandardError("outbound: \(job.displayName) was not purged: \(problem)\n")
                }
            }
        } catch {
            throw CommandFailure(code: .ioError, message: "cannot write the audit log: \(error); the jobs not yet purged stay")
        }
        output.line("purged \(purged) job\(purged == 1 ? "" : "s")")
        return failures > 0 ? .ioError : .ok
    }
}
