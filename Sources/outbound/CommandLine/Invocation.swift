/// The parsed command line: `outbound COMMAND [OPTIONS] [OPERAND...]`. Hand-written (the
/// project takes no packages) in the spirit of swift-argument-parser: every mistake is a usage
/// error that says what was expected. Options may come before or after operands, as
/// `--name VALUE` or `--name=VALUE`; `-` alone is an operand (standard input).
struct Invocation {
    /// The command named, or nil for the overview (`outbound`, `outbound --help`).
    var command: Command?
    var spool: String
    var config: String
    var wantsHelp = false
    var wantsVersion = false
    /// Flags given.
    private(set) var flags: Set<String> = []
    /// Values of options given, in order, by option name.
    private(set) var values: [String: [String]] = [:]
    /// The words that are not options, in order.
    private(set) var operands: [String] = []

    /// Whether `name` (a flag) was given.
    func has(_ name: String) -> Bool { flags.contains(name) }

    /// The last value given for `name`, if any.
    func value(_ name: String) -> String? { values[name]?.last }

    /// Every value given for a repeatable option, in order.
    func allValues(_ name: String) -> [String] { values[name] ?? [] }

    /// The value of `name` as a non-negative number of seconds, if given.
    func seconds(_ name: String) throws(CommandFailure) -> Double? {
        guard let text = value(name) else { return nil }
        guard let seconds = Double(text), seconds >= 0, seconds.isFinite else {
            throw CommandFailure(code: .usage, message: "\(name) takes a number of seconds, not '\(text)'")
        }
        return seconds
    }

    /// The command's name as typed, for messages.
    var commandName: String { command?.rawValue ?? "" }

    static func parse(_ arguments: [String], environment: [String: String]) throws(CommandFailure) -> Invocation {
        var parsed = Invocation(command: nil, spool: environment["OUTBOUND_SPOOL"] ?? "Outbox",
                                config: environment["OUTBOUND_CONFIG"] ?? "Config")
        var remaining = arguments[...]
        guard let first = remaining.popFirst() else {
            parsed.wantsHelp = true
            return parsed
        }
        switch first {
        case "--help", "-h":
            parsed.wantsHelp = true
            return parsed
        case "help":
            parsed.wantsHelp = true
            if let named = remaining.first { parsed.command = Command(rawValue: named) }
            return parsed
        case "--version":
            parsed.wantsVersion = true
            return parsed
        default:
            break
        }
        guard let command = Command(rawValue: first) else {
            let names = Command.allCases.map(\.rawValue).joined(separator: ", ")
            throw CommandFailure(code: .usage, message: "unknown command '\(first)'; the commands are \(names) (see outbound --help)")
        }
        parsed.command = command
        let definition = command.definition
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
            default:
                if let spec = definition.options.first(where: { $0.name == name }) {
                    if spec.takesValue {
                        let given = try value()
                        if !spec.repeatable, parsed.values[name] != nil {
                            throw CommandFailure(code: .usage, message: "\(name) was given twice (see outbound \(first) --help)")
                        }
                        parsed.values[name, default: []].append(given)
                    } else {
                        if inlineValue != nil {
                            throw CommandFailure(code: .usage, message: "\(name) takes no value (see outbound \(first) --help)")
                        }
                        parsed.flags.insert(name)
                    }
                    continue
                }
                if argument.hasPrefix("-") && argument != "-" {
                    throw CommandFailure(code: .usage, message: "'\(argument)' is not an option of 'outbound \(first)' (see outbound \(first) --help)")
                }
                guard definition.takesOperands else {
                    throw CommandFailure(code: .usage, message: "'outbound \(first)' takes no file arguments (got '\(argument)')")
                }
                parsed.operands.append(argument)
            }
        }
        return parsed
    }
}
