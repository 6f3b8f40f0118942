import Glibc
import OutboundCore

/// `outbound drain`: deliver what is queued now, wait out retries, then exit.
enum DrainCommand: CommandDefinition {
    static let summary = "deliver everything queued now, wait out retries, then exit"
    static let options: [OptionSpec] = [.value("--max-wait", "SECONDS"), .flag("--quiet")]
    static let takesOperands = false

    static let help = """
    Usage: outbound drain [--max-wait SECONDS] [--quiet] [--spool DIR] [--config DIR]

    Recovers orphaned claims, delivers every job in incoming/ and deferred/, waits out
    retry backoff, and exits when every job it saw is delivered, failed, refused,
    corrupt or held. Prints one summary line. On a terminal it shows progress on stderr.

    Options:
      --max-wait SECONDS  stop waiting for deferred jobs after this long (counted from
                          the start); they stay in deferred/ for a later run
      --quiet             no progress line on a terminal
    \(HelpText.common)

    Exit status: 0 all terminal or held, 75 jobs still deferred at --max-wait,
    74 audit log unwritable or job files that could not be moved out of incoming/,
    69 libcurl could not be loaded (nothing sent), 78 bad config.
    """

    static func execute(_ invocation: Invocation, context: CommandContext) throws(CommandFailure) -> ExitCode {
        let maxWait = try invocation.seconds("--max-wait")
        let showProgress = !invocation.has("--quiet") && isatty(2) == 1
        return try Dispatching.run(invocation, mode: .drain(maxWaitSeconds: maxWait), showProgress: showProgress, context: context)
    }
}
