import OutboundCore

/// The commands `outbound` knows, by the word that names them on the command line.
///
/// Each command is its own type in `Commands/` conforming to `CommandDefinition`: its options,
/// its help and what it does. Adding a command is a case here and a file there.
enum Command: String, CaseIterable {
    case run
    case drain
    case status
    case validate
    case audit
    case list
    case show
    case requeue
    case hold
    case release
    case purge
    case enqueue
    case replay
    case jwks

    /// The type that describes and carries out this command.
    var definition: any CommandDefinition.Type {
        switch self {
        case .run: return RunCommand.self
        case .drain: return DrainCommand.self
        case .status: return StatusCommand.self
        case .validate: return ValidateCommand.self
        case .audit: return AuditCommand.self
        case .list: return ListCommand.self
        case .show: return ShowCommand.self
        case .requeue: return RequeueCommand.self
        case .hold: return HoldCommand.self
        case .release: return ReleaseCommand.self
        case .purge: return PurgeCommand.self
        case .enqueue: return EnqueueCommand.self
        case .replay: return ReplayCommand.self
        case .jwks: return JwksCommand.self
        }
    }
}

/// What a command is: the options it accepts beyond the common ones, the help written for the
/// operator, and the work itself.
protocol CommandDefinition {
    /// One line for the overview of `outbound --help`.
    static var summary: String { get }
    /// The options this command accepts beyond `--spool`, `--config` and `--help`.
    static var options: [OptionSpec] { get }
    /// Whether words that are not options (files, job names, sub-commands) are accepted.
    static var takesOperands: Bool { get }
    /// The text of `outbound COMMAND --help`; it starts with `Usage: outbound COMMAND`.
    static var help: String { get }
    /// Carries the command out and returns its exit status; failures come back thrown.
    static func execute(_ invocation: Invocation, context: CommandContext) throws(CommandFailure) -> ExitCode
}

/// What `main` sets up before any command runs and hands to it.
struct CommandContext {
    /// The signalfd reader, created before any thread started (see main.swift).
    let signals: SignalWatcher
}
