import OutboundCore

/// `outbound hold`: park jobs so that nothing sends them until they are released.
enum HoldCommand: CommandDefinition {
    static let summary = "park jobs from incoming/ or deferred/ in hold/, keeping their retry state"
    static let options: [OptionSpec] = [.value("--from", "FOLDER", repeatable: true)] + OperatorMoving.bulkOptions
    static let takesOperands = true

    static let help = """
    Usage: outbound hold JOB... | -
           outbound hold --client ID [--from FOLDER] [--older-than DURATION] [--dry-run]

    Moves jobs from incoming/ or deferred/ to hold/, where nothing sends them until
    'outbound release'. Their attempt count and age are kept. A JOB is a job's id, its
    file name or FOLDER/FILE; '-' reads one per line from standard input. A job a
    dispatcher claims meanwhile is reported and left alone.

    Options:
      --client ID            every job of this client ID in incoming/ and deferred/
      --from FOLDER          only from this folder (incoming or deferred; repeatable)
      --older-than DURATION  only jobs whose file is older than DURATION
      --dry-run              print what would be moved, move nothing
    \(HelpText.common)

    Exit status: as requeue: 0 done, 64 usage, 65 a job in a folder it cannot leave,
    66 a named job not found, 74 audit log unwritable, 78 bad config.
    """

    static func execute(_ invocation: Invocation, context: CommandContext) throws(CommandFailure) -> ExitCode {
        let from = invocation.allValues("--from")
        var bulk: [SpoolFolder]?
        if invocation.value("--client") != nil || !from.isEmpty {
            bulk = from.isEmpty ? [.incoming, .deferred] : try invocation.spoolFolders(from, option: "--from")
        } else if invocation.value("--reason") != nil || invocation.value("--older-than") != nil {
            throw CommandFailure(code: .usage, message: "--older-than narrows --client ID or --from FOLDER (see outbound hold --help)")
        }
        return try OperatorMoving.run(.hold, invocation, bulkFolders: bulk)
    }
}
