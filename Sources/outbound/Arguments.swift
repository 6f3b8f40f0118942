/// The parsed command line: `outbound COMMAND [OPTIONS] [FILE...]`. Hand-written (the project
/// takes no packages) in the spirit of swift-argument-parser: every mistake is a usage error
/// that says what was expected.
struct Arguments {
    var command: String
    var spool: String
    var config: String
    var json = false
    var maxWait: Double?
    var grace = 10.0
    var quiet = false
    var files: [String] = []
    var wantsHelp = false

    static let commands = ["run", "drain", "status", "validate"]

    /// Options each command accepts, beyond --spool, --config and --help.
    static let commandOptions: [String: Set<String>] = [
        "run": ["--grace"],
        "drain": ["--max-wait", "--quiet"],
        "status": ["--json"],
        "validate": [],
    ]

    static func parse(_ arguments: [String], environment: [String: String]) throws(CommandFailure) -> Arguments {
        var parsed = Arguments(command: "", spool: environment["OUTBOUND_SPOOL"] ?? "Outbox",
                               config: environment["OUTBOUND_CONFIG"] ?? "Config")
        var remaining = arguments[...]
        guard let first = remaining.first else {
            parsed.wantsHelp = true
            return parsed
        }
        if first == "--help" || first == "-h" || first == "help" {
            parsed.wantsHelp = true
            if first == "help", remaining.count > 1 { parsed.command = remaining[remaining.startIndex + 1] }
            return parsed
        }
        if first == "--version" {
            parsed.command = "--version"
            return parsed
        }
        guard commands.contains(first) else {
            throw CommandFailure(code: .usage, message: "unknown command '\(first)'; the commands are \(commands.joined(separator: ", ")) (see outbound --help)")
        }
        parsed.command = first
        remaining = remaining.dropFirst()
        let allowed = commandOptions[first] ?? []
        while let argument = remaining.popFirst() {
            var name = argument
            var inlineValue: String?
            if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                inlineValue = String(argument[argument.index(after: equals)...])
            }
            func value() throws(CommandFailure) -> String {
                if let inlineValue { return inlineValue }
                guard let next = remaining.popFirst() else {
                    throw CommandFailure(code: .usage, message: "\(name) needs a value (see outbound \(first) --help)")
                }
                return next
            }
            switch name {
            case "--help", "-h":
                parsed.wantsHelp = true
            case "--spool":
                parsed.spool = try value()
            case "--config":
                parsed.config = try value()
            case "--json" where allowed.contains(name):
                parsed.json = true
            case "--quiet" where allowed.contains(name):
                parsed.quiet = true
            case "--max-wait" where allowed.contains(name):
                let text = try value()
                guard let seconds = Double(text), seconds >= 0 else {
                    throw CommandFailure(code: .usage, message: "--max-wait takes a number of seconds, not '\(text)'")
                }
                parsed.maxWait = seconds
            case "--grace" where allowed.contains(name):
                let text = try value()
                guard let seconds = Double(text), seconds >= 0 else {
                    throw CommandFailure(code: .usage, message: "--grace takes a number of seconds, not '\(text)'")
                }
                parsed.grace = seconds
            default:
                if argument.hasPrefix("-") && argument != "-" {
                    throw CommandFailure(code: .usage, message: "'\(argument)' is not an option of 'outbound \(first)' (see outbound \(first) --help)")
                }
                guard first == "validate" else {
                    throw CommandFailure(code: .usage, message: "'outbound \(first)' takes no file arguments (got '\(argument)')")
                }
                parsed.files.append(argument)
            }
        }
        return parsed
    }
}
