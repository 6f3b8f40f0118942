import Glibc
import OutboundCore

/// The four commands. Each returns its exit code; failures come back as `CommandFailure`.
enum Commands {
    static func loadConfiguration(_ arguments: Arguments) throws(CommandFailure) -> Configuration {
        do {
            return try ConfigLoader(directory: arguments.config, spoolDirectory: arguments.spool).load()
        } catch {
            throw CommandFailure(code: .configError, message: "configuration error: \(error)")
        }
    }

    // MARK: run and drain

    nonisolated(unsafe) private static var finishedDispatcher: Dispatcher?

    static func dispatch(_ arguments: Arguments, signals: SignalWatcher) throws(CommandFailure) -> ExitCode {
        let configuration = try loadConfiguration(arguments)
        let isDrain = arguments.command == "drain"
        let mode: Dispatcher.Mode = isDrain ? .drain(maxWaitSeconds: arguments.maxWait) : .run(graceSeconds: arguments.grace)
        let showProgress = isDrain && !arguments.quiet && isatty(2) == 1
        let progress: ((DispatchSummary, Int) -> Void)? = showProgress ? { printProgress($0, $1) } : nil
        let dispatcher: Dispatcher
        do {
            dispatcher = try Dispatcher(spoolRoot: arguments.spool, configuration: configuration, mode: mode, signals: signals,
                                        progress: progress)
        } catch Dispatcher.StartError.auditLog(let error) {
            throw CommandFailure(code: .ioError, message: "cannot open the audit log '\(configuration.settings.auditLogPath)': \(error)")
        } catch {
            throw CommandFailure(code: .cantCreate, message: "spool '\(arguments.spool)': \(error)")
        }
        let summary: DispatchSummary
        do {
            summary = try dispatcher.run()
            // Kept until the process exits: tearing down its handles, connections and buffers
            // one by one only delays the exit (10 to 20 ms after a 10,000-job drain). By now
            // every line is fsynced, every claim filed or put back and every helper thread
            // ended; the kernel closes the rest.
            finishedDispatcher = dispatcher
        } catch {
            throw CommandFailure(code: .ioError, message: "cannot write the audit log '\(configuration.settings.auditLogPath)': \(error)")
        }
        if showProgress { FileSystem.writeStandardError("\r\u{1B}[K") }
        if isDrain { print("drain: \(summary.line)") }
        switch summary.ending {
        case .auditFailure(let why):
            throw CommandFailure(code: .ioError, message: "stopped: the audit log cannot be written (\(why)); "
                + "claims were put back and nothing more was sent. Fix the audit log's folder and start again.")
        case .deferredRemaining:
            return .temporaryFailure
        case .stopped:
            // A drain stopped by a signal did not finish its work.
            return isDrain ? .temporaryFailure : .ok
        case .finished:
            guard isDrain, summary.unclaimable > 0 else { return .ok }
            throw CommandFailure(code: .ioError, message: "\(summary.unclaimable) job file(s) could not be moved out of incoming/ "
                + "(the errors above name them) and are still there. Fix the folder's permissions and drain again.")
        }
    }

    private static func printProgress(_ summary: DispatchSummary, _ inFlight: Int) {
        FileSystem.writeStandardError("\rdelivered \(summary.delivered)  failed \(summary.failed)  refused \(summary.refused)  "
            + "corrupt \(summary.corrupt)  retries \(summary.deferred)  in flight \(inFlight)\u{1B}[K")
    }

    // MARK: status

    static func status(_ arguments: Arguments) -> ExitCode {
        let now = SystemClock().now()
        let census = SpoolCensus(spool: Spool(root: arguments.spool), now: now)
        var configuration: Configuration?
        var configProblem: String?
        do {
            configuration = try ConfigLoader(directory: arguments.config, spoolDirectory: arguments.spool).load()
        } catch {
            configProblem = "\(error)"
        }
        if arguments.json {
            var folders = JSONObjectWriter()
            for entry in census.entries {
                var folder = JSONObjectWriter()
                folder.add("count", entry.count)
                folder.add("oldestAgeSeconds", entry.oldestAgeSeconds.map { Int($0.rounded(.down)) })
                folders.addRaw(entry.folder.rawValue, json: folder.finish())
            }
            var top = JSONObjectWriter()
            top.add("spool", arguments.spool)
            top.addRaw("folders", json: folders.finish())
            top.add("environment", configuration?.settings.environment.rawValue)
            top.add("clients", configuration?.registry.count)
            top.add("activeClients", configuration?.registry.activeCount)
            top.add("configError", configProblem)
            print(String(decoding: top.finish(), as: UTF8.self))
            return .ok
        }
        print("spool \(arguments.spool)")
        print(pad("folder", 10) + pad("jobs", 8, right: true) + "  oldest")
        for entry in census.entries {
            print(pad(entry.folder.rawValue, 10) + pad(String(entry.count), 8, right: true) + "  " + (entry.oldestAgeSeconds.map(describeAge) ?? "-"))
        }
        if let configuration {
            print("config \(arguments.config): environment \(configuration.settings.environment.rawValue), "
                + "\(configuration.registry.count) client records (\(configuration.registry.activeCount) active)")
        } else if let configProblem {
            print("config \(arguments.config): NOT LOADED: \(configProblem)")
        }
        return .ok
    }

    private static func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let padding = String(repeating: " ", count: max(0, width - text.count))
        return right ? padding + text : text + padding
    }

    private static func describeAge(_ seconds: Double) -> String {
        let whole = Int(seconds)
        if whole < 120 { return "\(whole)s" }
        if whole < 7200 { return "\(whole / 60)m" }
        if whole < 172_800 { return "\(whole / 3600)h" }
        return "\(whole / 86400)d"
    }

    // MARK: validate

    static func validate(_ arguments: Arguments) throws(CommandFailure) -> ExitCode {
        guard !arguments.files.isEmpty else {
            throw CommandFailure(code: .usage, message: "validate needs at least one job file (see outbound validate --help)")
        }
        let configuration = try loadConfiguration(arguments)
        let decoder = JobDecoder(clientIdHeader: configuration.settings.clientIdHeader,
                                 idempotencyHeader: configuration.settings.idempotencyHeader)
        let gate = configuration.gate
        var allAccepted = true
        for file in arguments.files {
            let verdict: String
            switch validateOne(file, decoder: decoder, gate: gate, maxBytes: configuration.settings.maxJobBytes) {
            case .accepted(let job):
                verdict = "accepted (job \(job.id), \(job.method.rawValue) \(job.url.redacted))"
            case .rejected(let outcome, let reason, let message):
                allAccepted = false
                verdict = "\(outcome) \(reason): \(message)"
            }
            print("\(file): \(verdict)")
        }
        return allAccepted ? .ok : .dataError
    }

    private enum Verdict {
        case accepted(Job)
        case rejected(outcome: String, reason: String, message: String)
    }

    private static func validateOne(_ file: String, decoder: JobDecoder, gate: Gate, maxBytes: Int) -> Verdict {
        let name = file.split(separator: "/").last.map(String.init) ?? file
        let contents: FileSystem.ReadResult
        do {
            contents = try FileSystem.readRegularFile(file, limit: maxBytes)
        } catch {
            return .rejected(outcome: "corrupt", reason: CorruptReason.unsupportedFile.rawValue, message: "\(error)")
        }
        switch contents {
        case .notRegularFile:
            return .rejected(outcome: "corrupt", reason: CorruptReason.unsupportedFile.rawValue, message: "not a regular file")
        case .tooLarge(let size, _):
            return .rejected(outcome: "corrupt", reason: CorruptReason.tooLarge.rawValue,
                             message: "the file has \(size) bytes or more; maxJobBytes is \(maxBytes)")
        case .contents(let bytes, _, _):
            do {
                let job = try decoder.decode(bytes, fileName: name)
                switch gate.check(job) {
                case .allowed: return .accepted(job)
                case .refused(let reason, let message):
                    return .rejected(outcome: "refused", reason: reason.rawValue, message: message)
                }
            } catch {
                return .rejected(outcome: "corrupt", reason: error.reason.rawValue, message: error.message)
            }
        }
    }
}
