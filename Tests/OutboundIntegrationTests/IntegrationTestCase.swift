import Foundation
import OutboundCore
import OutboundTestSupport
import XCTest

/// Shared set-up for tests that run the real `outbound` binary on a sandbox spool against a
/// real HTTP server on 127.0.0.1.
class IntegrationTestCase: XCTestCase {
    var sandbox: SpoolSandbox!
    var server: LoopbackHTTPServer!

    override func tearDown() {
        server?.stop()
        server = nil
        sandbox = nil
        super.tearDown()
    }

    /// A sandbox whose active client's endpoint is the server's `/hooks/`.
    func makeSandbox(serverHandler: @escaping @Sendable (RecordedRequest) -> ServerAction = { _ in .respond(status: 204) },
                     settings: [String: Any] = [:]) throws {
        server = try LoopbackHTTPServer(handler: serverHandler)
        sandbox = try SpoolSandbox()
        try sandbox.writeConfig(baseURL: server.baseURL, settings: settings)
    }

    /// Replaces clients.json with one record, the active client's, allowing `endpoints`.
    func writeActiveClient(endpoints: [String]) throws {
        let record: [String: Any] = ["clientId": SpoolSandbox.activeClient, "application": "Acme", "environment": "non-production",
                                     "status": "active", "endpoints": endpoints]
        try JSONSerialization.data(withJSONObject: ["clients": [record]]).write(to: sandbox.config.appendingPathComponent("clients.json"))
    }

    /// `drain`, asserting it exits with `status`.
    @discardableResult
    func drain(_ extra: [String] = [], environment: [String: String] = [:], expect status: Int32 = 0,
               file: StaticString = #filePath, line: UInt = #line) throws -> OutboundProcess.Result {
        let result = try sandbox.drain(extra, environment: environment)
        XCTAssertEqual(result.status, status, "drain exit status; stderr: \(result.standardError)", file: file, line: line)
        return result
    }

    /// Drains with fault.c failing the `call`th `family` call (and the `times - 1` after it)
    /// under the spool's `folder`, asserting the exit `status`; returns the faults injected.
    func drainInjecting(_ family: String, call: Int, times: Int = 1, errno: String, under folder: String, expect status: Int32 = 0,
                        file: StaticString = #filePath, line: UInt = #line) throws -> [String] {
        let faults = sandbox.root.appendingPathComponent("faults.log")
        try drain(environment: FaultLibrary.failing(family, call: call, errno: errno, times: times,
                                                    under: sandbox.spool.appendingPathComponent(folder), log: faults),
                  expect: status, file: file, line: line)
        return FaultLibrary.injected(log: faults)
    }

    /// The job's file in `folder`, or a failure naming where it is instead.
    func assertJob(_ name: String, isIn folder: String, file: StaticString = #filePath, line: UInt = #line) {
        let folders = ["incoming", "active", "deferred", "hold", "delivered", "failed", "refused", "corrupt"]
        let found = folders.filter { sandbox.jobs(in: $0).contains(name) }
        XCTAssertEqual(found, [folder], "\(name) should be in exactly \(folder)/", file: file, line: line)
    }

    /// The audit lines for `event` and job, asserting there is exactly `count` of them.
    @discardableResult
    func assertAudit(_ event: String, job: String, count: Int = 1, file: StaticString = #filePath, line: UInt = #line) -> [[String: Any]] {
        let lines = sandbox.audit(event, job: job)
        XCTAssertEqual(lines.count, count, "\(event) lines for \(job): \(sandbox.auditText)", file: file, line: line)
        return lines
    }

    /// Settings under which a failed attempt is due again 100 ms later.
    static var quickRetrySettings: [String: Any] {
        ["retry": ["maxAttempts": 5, "baseDelayMs": 100, "maxDelayMs": 100, "maxAgeSeconds": 3600]]
    }

    /// Due retries for the next drain: drops `names` (to the server's `/hooks/PATH`), lets a
    /// drain make each one's first attempt and defer it (the server answers 503, the sandbox
    /// has `quickRetrySettings`), and makes them due again.
    ///
    /// That drain sets them aside for a minute, and their states are then made due by hand:
    /// with the 100 ms of `quickRetrySettings` a retry came due before the drain could end
    /// whenever filing its deferral (state, line, move, each fsynced) took longer than that,
    /// as on a slow disk, and the drain went on retrying until the jobs failed.
    func leaveDueInDeferred(_ names: [String], path: String, file: StaticString = #filePath, line: UInt = #line) throws {
        for name in names { try sandbox.drop(name, job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/\(path)")) }
        try sandbox.writeSettings(["retry": ["maxAttempts": 5, "baseDelayMs": 60_000, "maxDelayMs": 60_000, "maxAgeSeconds": 3600]])
        try drain(["--max-wait", "0.05"], expect: 75, file: file, line: line)
        try sandbox.writeSettings(Self.quickRetrySettings)
        let states = JobStateStore(spool: Spool(root: sandbox.spool.path))
        for name in names {
            assertJob(name, isIn: "deferred", file: file, line: line)
            var state = try XCTUnwrap(try states.load(name, inode: nil), "\(name) has its state", file: file, line: line)
            state.nextAttemptAt = Date().timeIntervalSince1970 - 1
            try states.save(state, for: name)
        }
    }

    /// Waits until a job state is being saved in the spool's `.state/`: its temporary file is
    /// there (a slow disk, `FaultLibrary.slowingFsyncs`, keeps it there while its fsync lasts).
    func waitUntilAStateSaveIsUnderWay(file: StaticString = #filePath, line: UInt = #line) {
        let stateFolder = sandbox.spool.appendingPathComponent(".state").path
        XCTAssertTrue(SpoolSandbox.waitUntil(timeout: 10) {
            ((try? FileManager.default.contentsOfDirectory(atPath: stateFolder)) ?? []).contains { $0.hasPrefix(FileSystem.temporaryPrefix) }
        }, "a state save began", file: file, line: line)
    }

    /// No job was given a verdict: no `delivered`, `failed`, `refused` or `corrupt` line.
    func assertNoVerdict(file: StaticString = #filePath, line: UInt = #line) {
        for verdict in ["delivered", "failed", "refused", "corrupt"] {
            XCTAssertEqual(sandbox.audit(verdict).count, 0, "\(verdict) lines: \(sandbox.auditText)", file: file, line: line)
        }
    }
}
