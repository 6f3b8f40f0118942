import OutboundCore

/// `outbound audit tail`: the log's lines, filtered, readable or as JSON, optionally followed.
enum AuditTailing {
    static func run(log: String, _ invocation: Invocation, context: CommandContext) throws(CommandFailure) -> ExitCode {
        var filter = AuditTailFilter(job: invocation.value("--job"), client: invocation.value("--client"),
                                     events: Set(invocation.allValues("--event")))
        if let text = invocation.value("--since") {
            guard let seconds = AuditTailFilter.parseDuration(text) else {
                throw CommandFailure(code: .usage, message: "--since takes a duration such as 90d, 12h, 30m or 45s, not '\(text)'")
            }
            filter.since = SystemClock().now() - seconds
        }
        let json = invocation.has("--json")
        // Written per batch, not through print's buffer: a follower piped into another
        // program must show each line as it comes.
        var output: [UInt8] = []
        let show: (UnsafeRawBufferPointer) -> Void = { line in
            guard let members = filter.members(of: line) else { return }
            if json { output.append(contentsOf: line) } else { output.append(contentsOf: AuditTailFilter.readable(members).utf8) }
            output.append(0x0A)
            if output.count >= 1 << 16 { flush(&output) }
        }
        do {
            guard invocation.has("-f") || invocation.has("--follow") else {
                guard FileSystem.kind(of: log) != .missing else { return .ok }
                try LineFileReader(path: log).forEachLine { line, complete in
                    if complete { show(line) }
                    return true
                }
                flush(&output)
                return .ok
            }
            // Following: from the end, unless --since asks for older lines too.
            let follower = try AuditFollower(path: log, fromStart: filter.since != nil)
            while true {
                try follower.readNew(show)
                flush(&output)
                if FileSystem.waitReadable(context.signals.descriptor, timeoutMs: 250), !context.signals.drain().isEmpty {
                    return .ok
                }
            }
        } catch {
            throw CommandFailure(code: .ioError, message: "audit tail: \(error)")
        }
    }

    private static func flush(_ output: inout [UInt8]) {
        guard !output.isEmpty else { return }
        FileSystem.writeStandardOutput(output)
        output.removeAll(keepingCapacity: true)
    }
}
