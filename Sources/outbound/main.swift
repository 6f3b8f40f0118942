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

let invocation: Invocation
do {
    invocation = try Invocation.parse(Array(CommandLine.arguments.dropFirst()), environment: ProcessEnvironment.current())
} catch {
    fail(error)
}

if invocation.wantsVersion {
    print("outbound \(RequestBuilder.version)")
    exit(ExitCode.ok.rawValue)
}
guard let command = invocation.command, !invocation.wantsHelp else {
    print(HelpText.forCommand(invocation.command))
    exit(ExitCode.ok.rawValue)
}

do {
    let code = try command.definition.execute(invocation, context: CommandContext(signals: signals))
    exit(code.rawValue)
} catch {
    fail(error)
}
