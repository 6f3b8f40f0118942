/// The parts of `--help` shared by every command, written for the operator at the terminal.
/// Each command's own text lives with the command (`CommandDefinition.help`).
enum HelpText {
    static let common = """
      --spool DIR     the spool root (default: $OUTBOUND_SPOOL, else ./Outbox)
      --config DIR    the config folder (default: $OUTBOUND_CONFIG, else ./Config)
      -h, --help      show this help
    """

    /// `outbound --help`: what the program is for and one line per command.
    static var overview: String {
        let width = Command.allCases.map(\.rawValue.count).max() ?? 0
        let lines = Command.allCases.map { command in
            "  " + command.rawValue + String(repeating: " ", count: width - command.rawValue.count + 3) + command.definition.summary
        }
        return """
        outbound: sends the HTTP calls that upstream systems drop as job files into a spool,
        but only for client IDs that are active in this environment, and records every step
        in an append-only audit log.

        Usage: outbound COMMAND [OPTIONS]

        Commands:
        \(lines.joined(separator: "\n"))

        Options for every command:
        \(common)

        Exit status: 0 ok, 64 usage, 65 bad job data, 66 no such job, 74 I/O error,
        75 temporary failure (jobs still deferred at drain --max-wait), 78 bad configuration.
        Run 'outbound COMMAND --help' for a command's own options.
        """
    }

    /// The help for `command`, or the overview.
    static func forCommand(_ command: Command?) -> String {
        command?.definition.help ?? overview
    }
}
