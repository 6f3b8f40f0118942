import OutboundCore

/// What the operator commands share: reading JOB arguments (and names on standard input with
/// `-`), the bulk filters, and opening the audit log.
extension Invocation {
    var spoolTree: Spool { Spool(root: spool) }

    /// The JOB arguments, with `-` replaced by the lines of standard input (blank lines skipped).
    func jobArguments() throws(CommandFailure) -> [String] {
        var arguments: [String] = []
        for operand in operands {
            guard operand == "-" else {
                arguments.append(operand)
                continue
            }
            let bytes: [UInt8]?
            do { bytes = try FileSystem.readStandardInput(limit: 256 << 20) } catch {
                throw CommandFailure(code: .ioError, message: "\(error)")
            }
            guard let bytes else { throw CommandFailure(code: .usage, message: "standard input holds more than 256 MiB of names") }
            for line in bytes.split(separator: 0x0A) {
                let name = String(decoding: line, as: UTF8.self).trimmingASCIIWhitespace()
                if !name.isEmpty { arguments.append(name) }
            }
        }
        return arguments
    }

    /// `--client`, `--reason`, `--older-than` as a filter (a bad duration is a usage error).
    func jobFilter(now: Double) throws(CommandFailure) -> JobFilter {
        var filter = JobFilter(clientId: value("--client"), reason: value("--reason"), now: now)
        if let text = value("--older-than") {
            do { filter.olderThan = try OperatorDuration.seconds(text) } catch {
                throw CommandFailure(code: .usage, message: "--older-than: \(error)")
            }
        }
        return filter
    }

    /// The folders named by `--from` (or as operands, for `list`/`purge`): each must be a spool folder.
    func spoolFolders(_ names: [String], option: String) throws(CommandFailure) -> [SpoolFolder] {
        var folders: [SpoolFolder] = []
        for name in names {
            guard let folder = SpoolFolder(operand: name), folder != .tmp else {
                throw CommandFailure(code: .usage, message: "\(option) '\(name)' is not a spool folder; the folders are "
                    + SpoolFolder.searched.map(\.rawValue).joined(separator: ", "))
            }
            if !folders.contains(folder) { folders.append(folder) }
        }
        return folders
    }

    /// The audit log named in Config (`configuration`, when the command has loaded it already),
    /// opened for this command's lines.
    func openOperatorAudit(_ loaded: Configuration? = nil) throws(CommandFailure) -> OperatorAudit {
        let configuration: Configuration
        if let loaded { configuration = loaded } else { configuration = try loadConfiguration() }
        do {
            return try OperatorAudit(logPath: configuration.settings.auditLogPath)
        } catch {
            throw CommandFailure(code: .ioError, message: "cannot open the audit log '\(configuration.settings.auditLogPath)': \(error)")
        }
    }

    /// Creates the spool's missing folders (every command that writes to the spool does).
    func prepareSpool() throws(CommandFailure) {
        do { try spoolTree.prepare() } catch {
            throw CommandFailure(code: .temporaryFailure, message: "spool '\(spool)' is not writable: \(error)")
        }
    }
}

/// Finds the jobs named on the command line among the folders an action may take them from;
/// every problem is collected, so one run reports them all and moves nothing.
struct NamedJobs {
    var jobs: [SpoolJob] = []
    var problems: [String] = []
    var code: ExitCode = .ok

    init(_ arguments: [String], spool: Spool, allowed: [SpoolFolder], verb: String) {
        let locator = JobLocator(spool: spool)
        for argument in arguments {
            let found = locator.locate(argument)
            let usable = found.filter { allowed.contains($0.folder) }
            if found.isEmpty {
                note("no job '\(argument)' in \(spool.root) (looked for it as a file name and as an id in every folder)", .noInput)
            } else if usable.isEmpty {
                let places = found.map(\.displayName).joined(separator: ", ")
                note("\(argument) is in \(places); \(verb) takes jobs only from "
                    + allowed.map { "\($0.rawValue)/" }.joined(separator: ", "), .dataError)
            } else if usable.count > 1 {
                note("'\(argument)' names \(usable.count) jobs (\(usable.map(\.displayName).joined(separator: ", "))): "
                    + "name one as FOLDER/FILE", .usage)
            } else if !jobs.contains(usable[0]) {
                jobs.append(usable[0])
            }
        }
    }

    private mutating func note(_ problem: String, _ problemCode: ExitCode) {
        problems.append(problem)
        // The most specific: no such job (66) before a job that cannot leave (65) before usage (64).
        let rank: [ExitCode: Int] = [.noInput: 3, .dataError: 2, .usage: 1]
        if rank[problemCode, default: 0] > rank[code, default: 0] { code = problemCode }
    }
}

extension String {
    func trimmingASCIIWhitespace() -> String {
        var text = Substring(self)
        while let first = text.first, first == " " || first == "\t" || first == "\r" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" || last == "\r" { text = text.dropLast() }
        return String(text)
    }
}
