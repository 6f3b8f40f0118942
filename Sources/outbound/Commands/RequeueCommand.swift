import OutboundCore

/// `outbound requeue`: send jobs again from the start.
enum RequeueCommand: CommandDefinition {
    static let summary = "put jobs back in incoming/ with a fresh attempt count (failed, refused, held, ...)"
    static let options: [OptionSpec] = [.value("--from", "FOLDER", repeatable: true)] + OperatorMoving.bulkOptions
    static let takesOperands = true

    static let help = """
    Usage: outbound requeue JOB... | -
           outbound requeue --from FOLDER [--client ID] [--reason R] [--older-than DURATION] [--dry-run]

    Moves jobs back to incoming/ from failed/, refused/, corrupt/, hold/, deferred/ or
    delivered/ (a resend, under the same Idempotency-Key), with a fresh attempt count and
    age. Their .reason sidecar goes; its content is kept in the 'requeued' audit line,
    with the folder the job came from. A JOB is a job's id or its file name, or FOLDER/FILE;
    '-' reads one per line from standard input. Never touches active/; a job a
    dispatcher claims meanwhile is reported and left alone.

    Options:
      --from FOLDER          every job in FOLDER (repeatable), narrowed by:
      --client ID            only jobs of this client ID
      --reason R             only jobs whose sidecar has this reason (failed/refused/corrupt)
      --older-than DURATION  only jobs whose file is older than DURATION (90d, 12h, 30m)
      --dry-run              print what would be moved, move nothing
    \(HelpText.common)

    Exit status: 0 done, 64 usage (FOLDER not a spool folder, bad duration), 65 a job
    in a folder it cannot leave (incoming/, active/), 66 a named job not found,
    74 audit log unwritable, 78 bad config. On 64, 65 and 66 nothing is moved.
    """

    static func execute(_ invocation: Invocation, context: CommandContext) throws(CommandFailure) -> ExitCode {
        let from = invocation.allValues("--from")
        let bulk = from.isEmpty ? nil : try invocation.spoolFolders(from, option: "--from")
        if bulk == nil, invocation.value("--client") != nil || invocation.value("--reason") != nil || invocation.value("--older-than") != nil {
            throw CommandFailure(code: .usage, message: "--client, --reason and --older-than narrow --from FOLDER (see outbound requeue --help)")
        }
        return try OperatorMoving.run(.requeue, invocation, bulkFolders: bulk)
    }
}
