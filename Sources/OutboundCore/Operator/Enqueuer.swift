import Glibc

/// The safe way in for upstream systems (`enqueue`, `replay`; contract section 9): a job is
/// decoded and gate-checked against Config before anything is written, then written in `tmp/`,
/// fsynced, its `enqueued` line made durable, renamed into `incoming/` without replacing
/// (renameat2 RENAME_NOREPLACE: a name in use is an error, never an overwrite), and
/// `incoming/` fsynced. Nothing is written for a job that would be corrupt or refused.
public struct Enqueuer {
    /// A job that would not be accepted: what the dispatcher would do with it and why.
    public struct Rejection: Error, Sendable, CustomStringConvertible {
        public let outcome: String
        public let reason: String
        public let message: String
        public var description: String { "\(outcome) \(reason): \(message)" }
    }

    /// Why writing failed, for the exit status: the spool (75) or the audit log (74).
    public enum WriteFailure: Error, CustomStringConvertible {
        case spool(String)
        case nameInUse(String)
        case auditLog(String)

        public var description: String {
            switch self {
            case .spool(let text), .auditLog(let text): return text
            case .nameInUse(let name): return "incoming/\(name) exists already: a job is never written over; "
                + "give the job another file name (or id), or wait until the dispatcher has taken the other one"
            }
        }
    }

    /// One job ready to go: its bytes, the file name it gets in `incoming/`, and the decoded job.
    public struct Item: Sendable {
        public let bytes: [UInt8]
        public let name: String
        public let job: Job
        public let replayOf: String?
    }

    private let spool: Spool
    private let configuration: Configuration
    private let decoder: JobDecoder

    public init(spool: Spool, configuration: Configuration) {
        self.spool = spool
        self.configuration = configuration
        decoder = JobDecoder(clientIdHeader: configuration.settings.clientIdHeader,
                             idempotencyHeader: configuration.settings.idempotencyHeader)
    }

    /// Decodes and gate-checks `bytes` as the job file `name`.
    public func check(_ bytes: [UInt8], name: String, replayOf: String? = nil) throws(Rejection) -> Item {
        guard Spool.isJobName(name), !name.contains("/") else {
            throw Rejection(outcome: "corrupt", reason: CorruptReason.invalidJob.rawValue,
                            message: "'\(name)' is not a job file name (NAME.json, not starting with a dot)")
        }
        guard bytes.count <= configuration.settings.maxJobBytes else {
            throw Rejection(outcome: "corrupt", reason: CorruptReason.tooLarge.rawValue,
                            message: "the job has \(bytes.count) bytes; maxJobBytes is \(configuration.settings.maxJobBytes)")
        }
        let job: Job
        do {
            job = try decoder.decode(bytes, fileName: name)
        } catch {
            throw Rejection(outcome: "corrupt", reason: error.reason.rawValue, message: error.message)
        }
        if case .refused(let reason, let message) = configuration.gate.check(job) {
            throw Rejection(outcome: "refused", reason: reason.rawValue, message: message)
        }
        return Item(bytes: bytes, name: name, job: job, replayOf: replayOf)
    }

    /// The file name for a job read from standard input: `ID.json` when it names an id, else
    /// a fresh name (which becomes its id).
    public static func nameForStandardInput(_ bytes: [UInt8]) -> String {
        if let members = JSONMemberScanner.members(of: bytes), let id = JSONMemberScanner.string("id", in: members, of: bytes),
           JobDecoder.isValidId(id) {
            return "\(id).json"
        }
        let millis = Int(SystemClock().now() * 1000)
        return "enqueued-\(millis)-\(getpid())-\(String(UInt32.random(in: 0...UInt32.max), radix: 16)).json"
    }

    /// Writes every item; returns the names used. All or nothing as far as it can be: any
    /// failure before the renames removes what was written in `tmp/`. The spool's folders
    /// must exist (`Spool.prepare`, which the caller has made to open `audit` in it).
    public func enqueue(_ items: [Item], audit: OperatorAudit, clock: any WallClock = SystemClock()) throws(WriteFailure) -> [String] {
        var temporaries: [String] = []
        func discard() { for path in temporaries { try? FileSystem.remove(path) } }
        let incoming = spool.path(.incoming)
        for item in items {
            let temporary = spool.path(.tmp, ".enqueue-\(getpid())-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))-\(item.name)")
            do {
                try FileSystem.writeNewFile(item.bytes, to: temporary)
            } catch {
                discard()
                throw .spool("\(error)")
            }
            temporaries.append(temporary)
            if FileSystem.kind(of: "\(incoming)/\(item.name)") != .missing {
                discard()
                throw .nameInUse(item.name)
            }
        }
        for item in items {
            var line = AuditRecord(.enqueued, at: clock.now(), file: item.name, job: item.job)
            line.bytes = item.job.body?.count ?? 0
            line.bodySha256 = item.job.bodySha256
            line.replayOf = item.replayOf
            audit.append(line)
        }
        do {
            try audit.flush()
        } catch {
            discard()
            throw .auditLog("\(error)")
        }
        var names: [String] = []
        for (item, temporary) in zip(items, temporaries) {
            do {
                try FileSystem.rename(temporary, to: "\(incoming)/\(item.name)", replacing: false)
                names.append(item.name)
            } catch let error as SystemError where error.isAlreadyExists {
                for path in temporaries.dropFirst(names.count) { try? FileSystem.remove(path) }
                try? FileSystem.syncDirectory(incoming)
                throw .nameInUse(item.name)
            } catch {
                for path in temporaries.dropFirst(names.count) { try? FileSystem.remove(path) }
                try? FileSystem.syncDirectory(incoming)
                throw .spool("\(error)")
            }
        }
        do { try FileSystem.syncDirectory(incoming) } catch { throw .spool("\(error)") }
        return names
    }
}
