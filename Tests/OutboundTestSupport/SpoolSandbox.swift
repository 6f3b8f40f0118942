import Foundation

/// A temporary folder holding a `Config/` and an `Outbox/` spool for one test, with helpers to
/// drop jobs the way upstream systems do (write in tmp/, rename into incoming/) and to read
/// back what the dispatcher did: folders, sidecars, the audit log.
public final class SpoolSandbox {
    public let root: URL
    public var config: URL { root.appendingPathComponent("Config") }
    public var spool: URL { root.appendingPathComponent("Outbox") }
    public var auditLog: URL { spool.appendingPathComponent("audit.jsonl") }

    public static let activeClient = "6c12f6ab-2a3e-4f0e-9d7c-1f2e3d4c5b6a"
    public static let inactiveClient = "0b5e9a1c-7d2f-4c3a-8e6b-2f1d0c9b8a71"
    public static let productionClient = "9f8e7d6c-5b4a-4392-8170-6e5d4c3b2a19"
    public static let scopedService = "ADT.Notify"

    public init(name: String = "outbound") throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        for folder in ["tmp", "incoming"] {
            try FileManager.default.createDirectory(at: spool.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    /// Writes `outbound.json` from `settings` merged over a test-friendly base (fast retries).
    public func writeSettings(_ settings: [String: Any] = [:]) throws {
        var base: [String: Any] = [
            "environment": "non-production",
            "connectTimeoutMs": 2000,
            "timeoutMs": 5000,
            "retry": ["maxAttempts": 3, "baseDelayMs": 50, "maxDelayMs": 400, "maxAgeSeconds": 3600],
        ]
        for (key, value) in settings { base[key] = value }
        try write(base, to: config.appendingPathComponent("outbound.json"))
    }

    /// Writes `clients.json`: an active non-production client, an inactive one and a
    /// production-only one, all pointing at `endpoint`, plus any `extra` records.
    public func writeClients(endpoint: String, scopes: [String]? = [SpoolSandbox.scopedService], extra: [[String: Any]] = []) throws {
        var active: [String: Any] = [
            "clientId": Self.activeClient, "application": "Acme Bed Board", "environment": "non-production",
            "status": "active", "endpoints": [endpoint],
        ]
        if let scopes { active["scopes"] = scopes }
        let records: [[String: Any]] = [
            active,
            ["clientId": Self.inactiveClient, "application": "Legacy Feed", "environment": "non-production",
             "status": "inactive", "endpoints": [endpoint]],
            ["clientId": Self.productionClient, "application": "Pharmacy", "environment": "production",
             "status": "active", "endpoints": [endpoint]],
        ] + extra
        try write(["clients": records], to: config.appendingPathComponent("clients.json"))
    }

    /// Both config files for a receiver at `baseURL` whose endpoint path is `/hooks/`.
    public func writeConfig(baseURL: String, settings: [String: Any] = [:]) throws {
        try writeSettings(settings)
        try writeClients(endpoint: "\(baseURL)/hooks/")
    }

    private func write(_ object: Any, to url: URL) throws {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: url)
    }

    /// A job object for the active client, in scope, at `url`.
    public static func job(url: String, body: String? = "{\"event\":\"A01\"}", extra: [String: Any] = [:]) -> [String: Any] {
        var job: [String: Any] = ["clientId": activeClient, "service": scopedService, "url": url]
        if let body { job["body"] = body }
        for (key, value) in extra { job[key] = value }
        return job
    }

    /// Drops a job the proper way: written in tmp/, renamed into incoming/.
    @discardableResult
    public func drop(_ name: String, job: [String: Any]) throws -> URL {
        let data = try JSONSerialization.data(withJSONObject: job, options: [.sortedKeys])
        return try drop(name, bytes: data)
    }

    /// Drops raw bytes as a job file (for corrupt input). With `age` the file looks that old;
    /// a negative `age` puts its mtime that far ahead, so it stays young (within the 1-second
    /// grace for files still being written) that much longer.
    @discardableResult
    public func drop(_ name: String, bytes: Data, age: TimeInterval = 0) throws -> URL {
        let temporary = spool.appendingPathComponent("tmp").appendingPathComponent(name)
        try bytes.write(to: temporary)
        if age != 0 {
            let date = Date().addingTimeInterval(-age)
            try FileManager.default.setAttributes([.modificationDate: date], ofItemAtPath: temporary.path)
        }
        let target = spool.appendingPathComponent("incoming").appendingPathComponent(name)
        try FileManager.default.moveItem(at: temporary, to: target)
        return target
    }

    /// Copies every file of `Tests/Fixtures/<set>/` into incoming/, replacing `{{BASE}}` with
    /// `baseURL` in each; with `age` the files look that old (past the 1-second grace).
    public func replay(fixtureSet: String, baseURL: String, age: TimeInterval = 5) throws -> [String] {
        let folder = Fixtures.url.appendingPathComponent(fixtureSet)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        for name in names {
            let raw = try Data(contentsOf: folder.appendingPathComponent(name))
            let text = String(decoding: raw, as: UTF8.self)
            let bytes = text.contains("{{BASE}}") ? Data(text.replacingOccurrences(of: "{{BASE}}", with: baseURL).utf8) : raw
            try drop(name, bytes: bytes, age: age)
        }
        return names
    }

    /// Job file names (`*.json`) in a spool folder, sorted; `active` includes claim subfolders.
    public func jobs(in folder: String) -> [String] {
        let url = spool.appendingPathComponent(folder)
        var names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        if folder == "active" {
            // Claim folders, and the bucket folders inside them.
            for area in names where !area.hasSuffix(".json") {
                let areaURL = url.appendingPathComponent(area)
                let inside = (try? FileManager.default.contentsOfDirectory(atPath: areaURL.path)) ?? []
                names += inside
                for bucket in inside where !bucket.hasSuffix(".json") && !bucket.hasPrefix(".") {
                    names += (try? FileManager.default.contentsOfDirectory(atPath: areaURL.appendingPathComponent(bucket).path)) ?? []
                }
            }
        }
        return names.filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.sorted()
    }

    /// The `.reason` sidecar of a job in `folder`, parsed.
    public func reason(of name: String, in folder: String) -> [String: Any]? {
        let url = spool.appendingPathComponent(folder).appendingPathComponent("\(name).reason")
        guard let data = try? Data(contentsOf: url) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }

    /// The audit log's raw text.
    public var auditText: String {
        (try? String(contentsOf: auditLog, encoding: .utf8)) ?? ""
    }

    /// Every audit line, parsed (a line that is not a JSON object parses to an empty dictionary,
    /// which tests checking fields will notice).
    public var auditLines: [[String: Any]] {
        auditText.split(separator: "\n").map { line in
            ((try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]) ?? [:]
        }
    }

    /// Audit lines with `event` (and, if given, `job`).
    public func audit(_ event: String, job: String? = nil) -> [[String: Any]] {
        auditLines.filter { ($0["event"] as? String) == event && (job == nil || ($0["job"] as? String) == job) }
    }

    /// Runs `outbound drain` on this sandbox, with `environment` added (e.g. `LD_PRELOAD`),
    /// through `launcher` if given (e.g. `prlimit`).
    public func drain(_ extra: [String] = [], environment: [String: String] = [:], launcher: [String] = [],
                      timeout: TimeInterval = 60) throws -> OutboundProcess.Result {
        try OutboundProcess.run(["drain", "--spool", spool.path, "--config", config.path] + extra, environment: environment,
                                launcher: launcher, timeout: timeout)
    }

    /// Runs any `outbound` command on this sandbox (`--spool` and `--config` added), with
    /// `input` on its standard input.
    public func outbound(_ arguments: [String], input: Data? = nil, timeout: TimeInterval = 60) throws -> OutboundProcess.Result {
        try OutboundProcess.run(arguments + ["--spool", spool.path, "--config", config.path], timeout: timeout, input: input)
    }

    /// Starts `outbound run` on this sandbox, through `launcher` if given (e.g. `prlimit`).
    public func startRun(_ extra: [String] = [], launcher: [String] = []) throws -> OutboundProcess {
        try OutboundProcess(["run", "--spool", spool.path, "--config", config.path] + extra, launcher: launcher)
    }

    /// Polls `condition` every 20 ms until it holds or `timeout` passes.
    public static func waitUntil(timeout: TimeInterval = 10, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            usleep(20_000)
        }
        return condition()
    }
}

/// The replayable spools in `Tests/Fixtures/`.
public enum Fixtures {
    public static var url: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")
    }
}
