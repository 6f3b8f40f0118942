import Foundation

/// The `LD_PRELOAD` fault library of `scripts/fault.d/fault.c`, compiled once per test
/// process with the system's `cc` (as `scripts/fault-test` does), for tests that fail a
/// syscall of the real binary or record the order of its syscalls. No hook lives in the
/// binary: the library wraps the libc calls it makes.
public enum FaultLibrary {
    /// Why the library could not be built.
    public struct BuildError: Error, CustomStringConvertible {
        public let description: String
    }

    /// `scripts/fault.d/fault.c` in this checkout.
    public static var source: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/fault.d/fault.c")
    }

    /// Where the library was built, removed at exit; set once, before the library is used.
    nonisolated(unsafe) private static var folderToRemove: String?

    private static let built: Result<URL, BuildError> = {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("outbound-fault-\(getpid())")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // Test runs come and go many times a day: the folder goes when this process ends.
        folderToRemove = folder.path
        atexit {
            if let folder = FaultLibrary.folderToRemove { try? FileManager.default.removeItem(atPath: folder) }
        }
        let library = folder.appendingPathComponent("fault.so")
        let compiler = Process()
        compiler.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        compiler.arguments = ["cc", "-shared", "-fPIC", "-O2", "-o", library.path, source.path, "-ldl"]
        let errors = Pipe()
        compiler.standardError = errors
        do {
            try compiler.run()
        } catch {
            return .failure(BuildError(description: "cannot run cc to build \(source.path): \(error)"))
        }
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        compiler.waitUntilExit()
        guard compiler.terminationStatus == 0 else {
            return .failure(BuildError(description: "cc failed on \(source.path): \(text)"))
        }
        return .success(library)
    }()

    /// The compiled library's path (built on first use).
    public static func path() throws -> String {
        try built.get().path
    }

    /// The environment that loads the library to trace the order of audit fsyncs, sends and
    /// renames into `trace` (contract section 8's orders), each fsync of `auditLog` slowed by
    /// `fsyncDelayMs` so a step that does not wait for it is seen to run ahead every time.
    public static func tracing(into trace: URL, auditLog: URL, fsyncDelayMs: Int) throws -> [String: String] {
        ["LD_PRELOAD": try path(), "FAULT_TRACE": trace.path, "FAULT_AUDIT": auditLog.path,
         "FAULT_FSYNC_DELAY_MS": String(fsyncDelayMs)]
    }

    /// The environment that makes every fsync of a file or folder under `folder` take
    /// `milliseconds` longer (a slow disk), so a step waiting for it is still under way when
    /// the test acts.
    public static func slowingFsyncs(under folder: URL, milliseconds: Int) throws -> [String: String] {
        ["LD_PRELOAD": try path(), "FAULT_SLOW_FSYNC_UNDER": folder.path, "FAULT_SLOW_FSYNC_MS": String(milliseconds)]
    }

    /// The environment that makes the binary find `folder` wherever it looks in
    /// `systemFolder` (libcurl's built-in CA bundle and hashed-certificate folder live there):
    /// a stand-in for the machine's trusted certificates.
    public static func trusting(_ folder: URL, asSystemFolder systemFolder: String) throws -> [String: String] {
        ["LD_PRELOAD": try path(), "FAULT_CERTS_FROM": systemFolder, "FAULT_CERTS_TO": folder.path]
    }

    /// The faults the library injected into a run given `log`: one "fault CALL N ERRNO PATH"
    /// line each; none when it injected nothing (or wrote no log).
    public static func injected(log: URL) -> [String] {
        ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// The environment that fails the `n`th call of `family` (fault.c's names: open, read,
    /// write, fsync, rename, ...) on paths under `root` with `errno` (a name such as "EIO"),
    /// that call only, the `times` calls from it on, or (`persist`) every later one too; each
    /// injected fault is logged to `log`.
    public static func failing(_ family: String, call n: Int, errno: String, times: Int = 1, persist: Bool = false,
                               under root: URL, log: URL) throws -> [String: String] {
        ["LD_PRELOAD": try path(), "FAULT_ROOT": root.path, "FAULT_CALL": family, "FAULT_N": String(n),
         "FAULT_ERRNO": errno, "FAULT_TIMES": String(times), "FAULT_PERSIST": persist ? "1" : "0", "FAULT_LOG": log.path]
    }
}

/// The order of events fault.c recorded (`FAULT_TRACE`), read as contract section 8 states
/// it: which audit lines were durable (written before an fsync of the log began that then
/// succeeded) when each request went out and each job was moved.
public struct OrderTrace {
    /// One recorded event.
    public enum Event: Equatable {
        /// An audit line `event` for `job` was written.
        case written(event: String, job: String)
        /// The `number`th fsync of the audit log began.
        case syncBegan(Int)
        /// ... and succeeded.
        case synced(Int)
        /// A request with this Idempotency-Key is about to be sent.
        case send(key: String)
        /// A connect to an IP address is about to be made.
        case connect
        /// A file is about to be renamed to `name` in `folder`.
        case rename(name: String, folder: String)
    }

    public let events: [Event]

    public init(contentsOf url: URL) throws {
        let text = try String(contentsOf: url, encoding: .utf8)
        events = text.split(separator: "\n").compactMap { line in
            let words = line.split(separator: " ").map(String.init)
            switch (words.first, words.count) {
            case ("W", 3): return .written(event: words[1], job: words[2])
            case ("f", 2): return Int(words[1]).map(Event.syncBegan)
            case ("F", 2): return Int(words[1]).map(Event.synced)
            case ("S", 2): return .send(key: words[1])
            case ("C", 1): return .connect
            case ("R", 3): return .rename(name: words[1], folder: words[2])
            default: return nil
            }
        }
    }

    /// Walks the events in order: `check` sees each with the set of "EVENT JOB" audit lines
    /// durable at that moment.
    public func walk(_ check: (Event, Set<String>) -> Void) {
        var written: Set<String> = []
        var syncing: [Int: Set<String>] = [:]
        var durable: Set<String> = []
        for event in events {
            check(event, durable)
            switch event {
            case .written(let name, let job): written.insert("\(name) \(job)")
            case .syncBegan(let number): syncing[number] = written
            case .synced(let number): durable.formUnion(syncing.removeValue(forKey: number) ?? [])
            default: break
            }
        }
    }

    /// The job a file name belongs to: the name without `.json` and a `~N` clash suffix.
    public static func job(ofFileNamed name: String) -> String {
        var stem = name.hasSuffix(".json") ? String(name.dropLast(5)) : name
        if let tilde = stem.lastIndex(of: "~"), stem[stem.index(after: tilde)...].allSatisfy(\.isNumber) {
            stem = String(stem[..<tilde])
        }
        return stem
    }
}
