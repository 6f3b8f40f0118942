import Glibc
import OutboundCore

// Block SIGTERM/SIGINT/SIGHUP before anything can start a thread: the signalfd then
// receives them, and no thread is ever killed by one.
let signals: SignalWatcher
do {
    signals = try SignalWatcher()
} catch {
    FileSystem.writeStandardError("outbound: \(error)\n")
    exit(ExitCode.software.rawValue)
}

func fail(_ failure: CommandFailure) -> Never {
    FileSystem.writeStandardError("outbound: \(failure.message)\n")
    exit(failure.code.rawValue)
}

let environment = ProcessEnvironment.current()
let arguments: Arguments
do {
    arguments = try Arguments.parse(Array(CommandLine.arguments.dropFirst()), environment: environment)
} catch {
    fail(error)
}

if arguments.wantsHelp {
    print(HelpText.forCommand(arguments.command))
    exit(ExitCode.ok.rawValue)
}

let code: ExitCode
do {
    switch arguments.command {
    case "--version":
        print("outbound \(RequestBuilder.version)")
        code = .ok
    case "run", "drain":
        code = try Commands.dispatch(arguments, signals: signals)
    case "status":
        code = Commands.status(arguments)
    case "validate":
        code = try Commands.validate(arguments)
    default:
        code = .usage
    }
} catch {
    fail(error)
}
exit(code.rawValue)
