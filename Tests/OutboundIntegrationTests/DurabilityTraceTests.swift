import Foundation
import OutboundTestSupport
import XCTest

/// Contract section 8's two orders, checked at the syscalls: the real binary runs under the
/// fault library's order tracing (`scripts/fault.d/fault.c`, loaded with `LD_PRELOAD`), which
/// records every audit line written, every fsync of the audit log (begun and succeeded), every
/// request sent and every rename, in the order they happened. Each fsync of the log (and of a
/// retry's state file) is slowed down, so a step that does not wait for it runs ahead of it
/// every time.
///
/// Reading the log from the receiver or from a watcher (`DurabilityOrderTests`) sees lines in
/// the page cache; these tests see the fsync.
final class DurabilityTraceTests: IntegrationTestCase {
    /// Request keys seen, for answering a retry's first request 503 and its second 204.
    private final class SeenKeys: @unchecked Sendable {
        // @unchecked: `keys` is only touched under `lock`.
        private let lock = NSLock()
        private var keys: Set<String> = []
        func firstTime(_ key: String) -> Bool { lock.withLock { keys.insert(key).inserted } }
    }

    private static let jobCount = 120

    /// A drain over a mixed spool (delivered, retried once, failed with 400, refused, corrupt)
    /// with the order traced; returns the trace.
    private func tracedDrain() throws -> OrderTrace {
        let seen = SeenKeys()
        try makeSandbox(serverHandler: { request in
            if request.path.contains("/fail/") { return .respond(status: 400) }
            if request.path.contains("/retry/"), seen.firstTime(request.header("Idempotency-Key") ?? "") {
                return .respond(status: 503)
            }
            return .respond(status: 204)
        }, settings: ["concurrency": 16])
        for index in 0..<Self.jobCount {
            let name = String(format: "trace-%03d.json", index)
            switch index % 10 {
            case 3: try sandbox.drop(name, job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/\(index)", extra: ["clientId": SpoolSandbox.inactiveClient]))
            case 5: try sandbox.drop(name, job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/retry/\(index)"))
            case 7: try sandbox.drop(name, job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/fail/\(index)"))
            case 9: try sandbox.drop(name, bytes: Data("{\"clientId\": ".utf8), age: 5)
            default: try sandbox.drop(name, job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/\(index)"))
            }
        }
        let traceFile = sandbox.root.appendingPathComponent("order.trace")
        // The state files of retries are slowed down too, so a deferred line that does not
        // wait for its state shows up before it every time.
        var environment = try FaultLibrary.tracing(into: traceFile, auditLog: sandbox.auditLog, fsyncDelayMs: 25)
        environment.merge(try FaultLibrary.slowingFsyncs(under: sandbox.spool.appendingPathComponent(".state"), milliseconds: 20)) { $1 }
        try drain(environment: environment)
        XCTAssertEqual(sandbox.jobs(in: "delivered").count, 84, "the spool came out as built")
        XCTAssertEqual(sandbox.jobs(in: "failed").count, 12)
        XCTAssertEqual(sandbox.jobs(in: "refused").count, 12)
        XCTAssertEqual(sandbox.jobs(in: "corrupt").count, 12)
        return try OrderTrace(contentsOf: traceFile)
    }

    func testNoRequestIsSentBeforeItsAcceptedLineIsFsynced() throws {
        let trace = try tracedDrain()
        var early: [String] = []
        var sends = 0
        trace.walk { event, durable in
            guard case .send(let key) = event else { return }
            sends += 1
            if !durable.contains("accepted \(key)") { early.append(key) }
        }
        // 96 jobs are sent (delivered, retried, failed), the 12 retried ones twice.
        XCTAssertEqual(sends, 108, "the trace saw every request")
        XCTAssertTrue(trace.events.contains(.connect), "the trace saw the connections")
        XCTAssertEqual(early, [], "requests sent before the fsync of their accepted line had returned")
    }

    func testNoJobIsMovedIntoItsOutcomeFolderBeforeItsOutcomeLineIsFsynced() throws {
        let trace = try tracedDrain()
        var early: [String] = []
        var moves: [String: Int] = [:]
        let outcomeFolders: Set = ["delivered", "failed", "refused", "corrupt", "deferred"]
        trace.walk { event, durable in
            // Job files only: a `.reason` sidecar is written beside its job's final name first.
            guard case .rename(let name, let folder) = event, outcomeFolders.contains(folder), name.hasSuffix(".json") else { return }
            moves[folder, default: 0] += 1
            // The outcome line's event is named after the folder (contract section 8).
            let line = "\(folder) \(OrderTrace.job(ofFileNamed: name))"
            if !durable.contains(line) { early.append("\(name) into \(folder)/") }
        }
        XCTAssertEqual(moves, ["delivered": 84, "failed": 12, "refused": 12, "corrupt": 12, "deferred": 12],
                       "the trace saw every move into an outcome folder")
        XCTAssertEqual(early, [], "jobs moved before the fsync of their outcome line had returned")
    }

    /// A job set aside has its state on disk before its `deferred` line is written (and so, by
    /// the test above, before its move): a crash in between cannot leave a job in deferred/, or
    /// a line saying it went there, without the attempts it made.
    func testNoDeferredLineIsWrittenBeforeTheJobsStateIsSaved() throws {
        let trace = try tracedDrain()
        var saved: Set<String> = []
        var early: [String] = []
        var deferredLines = 0
        trace.walk { event, _ in
            switch event {
            case .rename(let name, ".state"):
                // The state file's rename into place comes after its fsync (`writeAtomically`).
                saved.insert(OrderTrace.job(ofFileNamed: name))
            case .written("deferred", let job):
                deferredLines += 1
                if !saved.contains(job) { early.append(job) }
            default: break
            }
        }
        XCTAssertEqual(deferredLines, 12, "the trace saw every deferred line")
        XCTAssertEqual(early, [], "deferred lines written before their job's state file was in place")
    }
}
