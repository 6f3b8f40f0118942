import OutboundCore

/// What `enqueue` and `replay` share: check every job first (nothing is written if any would
/// be corrupt or refused), then write them all, and turn failures into exit statuses.
enum Enqueuing {
    /// A job to enqueue: its bytes, the file name it gets, and where it came from for messages.
    struct Source {
        let bytes: [UInt8]
        let name: String
        let origin: String
        let replayOf: String?
    }

    /// Config, loaded once before the job files are read: their size limit comes from it,
    /// but a bad config is reported (by `run`) only after the files are found, so a missing
    /// file is named first.
    struct LoadedConfiguration {
        let result: Result<Configuration, CommandFailure>

        init(_ invocation: Invocation) {
            result = Result { () throws(CommandFailure) in try invocation.loadConfiguration() }
        }

        /// `maxJobBytes`, or its default when Config cannot be loaded.
        var maxJobBytes: Int { (try? result.get().settings.maxJobBytes) ?? (10 << 20) }
    }

    static func run(_ sources: [Source], configuration loaded: LoadedConfiguration,
                    _ invocation: Invocation) throws(CommandFailure) -> ExitCode {
        let configuration = try loaded.result.get()
        let spool = invocation.spoolTree
        let enqueuer = Enqueuer(spool: spool, configuration: configuration)
        var items: [Enqueuer.Item] = []
        var rejected: [String] = []
        var names = Set<String>()
        for source in sources {
            do {
                items.append(try enqueuer.check(source.bytes, name: source.name, replayOf: source.replayOf))
                if !names.insert(source.name).inserted {
                    rejected.append("\(source.origin): a second job named \(source.name) in this call")
                }
            } catch {
                rejected.append("\(source.origin): \(error)")
            }
        }
        if !rejected.isEmpty {
            for line in rejected.dropLast() { FileSystem.writeStandardError("outbound: \(line)\n") }
            throw CommandFailure(code: .dataError, message: rejected.last! + "; nothing was written")
        }
        try invocation.prepareSpool()
        let audit = try invocation.openOperatorAudit(configuration)
        let written: [String]
        do {
            written = try enqueuer.enqueue(items, audit: audit)
        } catch {
            switch error {
            case .spool: throw CommandFailure(code: .temporaryFailure, message: "spool '\(invocation.spool)' is not writable: \(error)")
            case .nameInUse: throw CommandFailure(code: .dataError, message: "\(error)")
            case .auditLog: throw CommandFailure(code: .ioError, message: "cannot write the audit log: \(error); nothing was enqueued")
            }
        }
        let output = BufferedOutput()
        for name in written { output.line(name) }
        output.flush()
        return .ok
    }

    /// Reads a job file named on the command line (`-`: standard input).
    static func read(_ path: String, limit: Int) throws(CommandFailure) -> [UInt8] {
        if path == "-" {
            let bytes: [UInt8]?
            do { bytes = try FileSystem.readStandardInput(limit: limit) } catch {
                throw CommandFailure(code: .ioError, message: "\(error)")
            }
            guard let bytes else {
                throw CommandFailure(code: .dataError, message: "standard input: the job has more than maxJobBytes (\(limit)) bytes; nothing was written")
            }
            return bytes
        }
        do {
            switch try FileSystem.readFollowingLinks(path, limit: limit) {
            case .contents(let bytes, _, _): return bytes
            case .tooLarge(let size, _):
                throw CommandFailure(code: .dataError, message: "\(path): \(size) bytes or more; maxJobBytes is \(limit); nothing was written")
            case .notRegularFile, .notAdmitted:
                throw CommandFailure(code: .dataError, message: "\(path): not a regular file; nothing was written")
            }
        } catch let failure as CommandFailure {
            throw failure
        } catch {
            throw CommandFailure(code: .noInput, message: "\(error); nothing was written")
        }
    }
}
