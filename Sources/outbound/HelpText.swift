/// The `--help` texts, written for the operator at the terminal.
enum HelpText {
    static let common = """
      --spool DIR     the spool root (default: $OUTBOUND_SPOOL, else ./Outbox)
      --config DIR    the config folder (default: $OUTBOUND_CONFIG, else ./Config)
      -h, --help      show this help
    """

    static let overview = """
    outbound: sends the HTTP calls that upstream systems drop as job files into a spool,
    but only for client IDs that are active in this environment, and records every step
    in an append-only audit log.

    Usage: outbound COMMAND [OPTIONS]

    Commands:
      run        deliver continuously until SIGTERM or SIGINT (SIGHUP reloads Config)
      drain      deliver everything queued now, wait out retries, then exit
      status     show how many jobs are in each folder and the loaded configuration
      validate   check job files against Config without sending anything

    Options for every command:
    \(common)

    Exit status: 0 ok, 64 usage, 65 bad job data, 74 audit log unwritable,
    75 jobs still deferred (drain --max-wait), 78 bad configuration.
    Run 'outbound COMMAND --help' for a command's own options.
    """

    static func forCommand(_ command: String) -> String {
        switch command {
        case "run":
            return """
            Usage: outbound run [--grace SECONDS] [--spool DIR] [--config DIR]

            Recovers claims left by dead processes, then delivers jobs as they arrive in
            incoming/ (noticed at once through inotify, with a rescan every 2 s as a safety
            net). Several processes may share one spool.

            Signals:
              SIGTERM, SIGINT  claim nothing new, let transfers in flight finish for up to
                               --grace seconds (default 10), put unfinished claims back, exit 0
              SIGHUP           reload Config (a bad file is rejected, the old one kept) and
                               reopen the audit log (for logrotate)

            Options:
              --grace SECONDS  how long in-flight transfers may finish at a stop (default 10)
            \(common)

            Exit status: 0 clean stop, 74 audit log unwritable, 78 bad config at start.
            """
        case "drain":
            return """
            Usage: outbound drain [--max-wait SECONDS] [--quiet] [--spool DIR] [--config DIR]

            Recovers orphaned claims, delivers every job in incoming/ and deferred/, waits out
            retry backoff, and exits when every job it saw is delivered, failed, refused,
            corrupt or held. Prints one summary line. On a terminal it shows progress on stderr.

            Options:
              --max-wait SECONDS  stop waiting for deferred jobs after this long (counted from
                                  the start); they stay in deferred/ for a later run
              --quiet             no progress line on a terminal
            \(common)

            Exit status: 0 all terminal or held, 75 jobs still deferred at --max-wait,
            74 audit log unwritable or job files that could not be moved out of incoming/,
            78 bad config.
            """
        case "status":
            return """
            Usage: outbound status [--json] [--spool DIR] [--config DIR]

            For each spool folder: how many jobs and how old the oldest is; then the
            environment and client records Config holds.

            Options:
              --json          one JSON object instead of a table
            \(common)

            Exit status: 0.
            """
        case "validate":
            return """
            Usage: outbound validate FILE... [--spool DIR] [--config DIR]

            Decodes each job file and checks it at the client-ID gate against Config, sending
            nothing. Prints one line per file: 'accepted', or the reason code and what is wrong.

            Options:
            \(common)

            Exit status: 0 all accepted, 65 any file not accepted, 64 no file given,
            78 bad config.
            """
        default:
            return overview
        }
    }
}
