import OutboundCore

/// `outbound release`: let held jobs go again.
enum ReleaseCommand: CommandDefinition {
    static let summary = "move held jobs back to incoming/, keeping their retry state"
    static let options: [OptionSpec] = [.flag("--all")] + OperatorMoving.bulkOptions
    static let takesOperands = true

    static let help = """
    Usage: outbound release JOB... | -
           outbound release --all | --client ID [--older-than DURATION] [--dry-run]

    Moves jobs from hold/ back to incoming/; their attempt count and age are kept. A JOB
    is a job's id, its file name or hold/FILE; '-' reads one per line from standard input.

    Options:
      --all                  every job in hold/
      --client ID            every held job of this client ID
      --older-than DURATION  only jobs whose file is older than DURATION
      --dry-run              print what would be moved, move nothing
    \(HelpText.common)

    Exit status: as requeue: 0 done, 64 usage, 65 a job in a folder it cannot leave,
    66 a named job not found, 74 audit log unwritable, 78 bad config.
    """

    static func execute(_ invocation: Invocation, context: CommandContext) throws(CommandFailure) -> ExitCode {
        let bulk = invocation.has("--all") || invocation.value("--client") != nil
        if !bulk, invocation.value("--reason") != nil || invocation.value("--older-than") != nil {
            throw CommandFailure(code: .usage, message: "--older-than narrows --all or --client ID (see outbound release --help)")
        }
        return try OperatorMoving.run(.release, invocation, bulkFolders: bulk ? [.hold] : nil)
    }
}
