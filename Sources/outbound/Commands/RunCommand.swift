import OutboundCore

/// `outbound run`: deliver continuously until SIGTERM or SIGINT.
enum RunCommand: CommandDefinition {
    static let summary = "deliver continuously until SIGTERM or SIGINT (SIGHUP reloads Config)"
    static let options: [OptionSpec] = [.value("--grace", "SECONDS"), .value("--metrics-file", "PATH")]
    static let takesOperands = false

    static let help = """
    Usage: outbound run [--grace SECONDS] [--metrics-file PATH] [--spool DIR] [--config DIR]

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
      --metrics-file PATH
                       write Prometheus metrics to PATH at start, every 10 s and at
                       the end (temp file + rename: node_exporter's textfile collector)
    \(HelpText.common)

    Exit status: 0 clean stop, 74 audit log unwritable, 69 libcurl could not be
    loaded (nothing sent), 78 bad config at start.
    """

    static func execute(_ invocation: Invocation, context: CommandContext) throws(CommandFailure) -> ExitCode {
        let grace = try invocation.seconds("--grace") ?? 10
        return try Dispatching.run(invocation, mode: .run(graceSeconds: grace), showProgress: false, context: context)
    }
}
