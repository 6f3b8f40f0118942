import Foundation
import OutboundTestSupport
import XCTest

/// Contract section 8's ordering, observed from outside while a drain runs: nothing is sent
/// before its `accepted` line is on disk, and no job reaches its outcome folder before its
/// outcome line. And section 2's "nothing lost" when two jobs share a name.
final class DurabilityOrderTests: IntegrationTestCase {
    /// Things seen to go wrong, from other threads.
    private final class Findings: @unchecked Sendable {
        // @unchecked: `items` is only touched under `lock`.
        private let lock = NSLock()
        private var items: [String] = []
        private var stored = ""
        func add(_ item: String) { lock.withLock { items.append(item) } }
        var all: [String] { lock.withLock { items } }
        var auditPath: String {
            get { lock.withLock { stored } }
            set { lock.withLock { stored = newValue } }
        }
    }

    private static func auditText(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    func testNoRequestLeavesBeforeItsAcceptedLineIsInTheAuditLog() throws {
        let findings = Findings()
        try makeSandbox(serverHandler: { request in
            // The receiver reads the audit log the moment each request arrives.
            let key = request.header("Idempotency-Key") ?? "?"
            if !Self.auditText(findings.auditPath).contains(#""event":"accepted","job":"\#(key)""#) {
                findings.add("\(key) arrived before its accepted line was in the log")
            }
            return .respond(status: 204)
        })
        findings.auditPath = sandbox.auditLog.path
        for index in 0..<300 {
            try sandbox.drop(String(format: "order-%03d.json", index), job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/\(index)"))
        }
        try drain()
        XCTAssertEqual(server.requestCount, 300)
        XCTAssertEqual(sandbox.jobs(in: "delivered").count, 300)
        XCTAssertEqual(findings.all, [])
    }

    func testNoJobReachesDeliveredBeforeItsDeliveredLine() throws {
        try makeSandbox()
        for index in 0..<300 {
            try sandbox.drop(String(format: "filed-%03d.json", index), job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/\(index)"))
        }
        let findings = Findings()
        let finished = FlagBox(false)
        let delivered = sandbox.spool.appendingPathComponent("delivered").path
        let auditPath = sandbox.auditLog.path
        let looks = Findings()
        let watcher = Thread {
            while !finished.value {
                // Listing first, log second: a file listed must already have its line.
                let names = (try? FileManager.default.contentsOfDirectory(atPath: delivered)) ?? []
                let text = Self.auditText(auditPath)
                for name in names where name.hasSuffix(".json") {
                    let job = String(name.dropLast(5))
                    if !text.contains(#""event":"delivered","job":"\#(job)""#) { findings.add("\(name) in delivered/ before its line") }
                }
                looks.add("look")
                usleep(500)
            }
        }
        watcher.start()
        try drain()
        finished.value = true
        XCTAssertEqual(sandbox.jobs(in: "delivered").count, 300)
        XCTAssertEqual(findings.all, [])
        XCTAssertGreaterThan(looks.all.count, 3, "the watcher looked while the drain ran")
    }

    func testAJobInDeferredAndANamesakeInIncomingAreBothDelivered() throws {
        // A slow receiver keeps whichever is claimed first in the claim area while the other
        // is found: the second must wait its turn, not replace the first.
        try makeSandbox(serverHandler: { _ in .respondAfter(milliseconds: 600, status: 204) })
        let deferred = sandbox.spool.appendingPathComponent("deferred")
        try FileManager.default.createDirectory(at: deferred, withIntermediateDirectories: true)
        let older = try JSONSerialization.data(withJSONObject: SpoolSandbox.job(url: "\(server.baseURL)/hooks/twin", body: "older"))
        try older.write(to: deferred.appendingPathComponent("twin.json"))
        try sandbox.drop("twin.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/twin", body: "newer"))

        try drain()

        XCTAssertEqual(server.requests.map(\.bodyText).sorted(), ["newer", "older"], "both were sent, each once")
        XCTAssertEqual(sandbox.jobs(in: "delivered"), ["twin.json", "twin~1.json"])
        XCTAssertEqual(sandbox.jobs(in: "incoming"), [])
        XCTAssertEqual(sandbox.jobs(in: "deferred"), [])
        assertAudit("delivered", job: "twin", count: 2)
    }

    /// A partner answering 503, a job `twin.json` held in hold/ with its state (three attempts),
    /// and a new job of the same name in incoming/; the state folder and the held state's text.
    private func namesakeHeldWithItsState() throws -> (stateFolder: URL, heldState: String) {
        try makeSandbox(serverHandler: { _ in .respond(status: 503) }, settings: [
            "retry": ["maxAttempts": 5, "baseDelayMs": 60000, "maxDelayMs": 60000, "maxAgeSeconds": 3600],
        ])
        let hold = sandbox.spool.appendingPathComponent("hold"), stateFolder = sandbox.spool.appendingPathComponent(".state")
        try FileManager.default.createDirectory(at: hold, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: stateFolder, withIntermediateDirectories: true)
        let held = hold.appendingPathComponent("twin.json")
        try JSONSerialization.data(withJSONObject: SpoolSandbox.job(url: "\(server.baseURL)/hooks/held")).write(to: held)
        let inode = try XCTUnwrap((try FileManager.default.attributesOfItem(atPath: held.path))[.systemFileNumber] as? UInt64)
        let heldState = "{\"attempts\":3,\"firstClaimedAt\":\"2026-12-06T10:00:00.000Z\",\"nextAttemptAt\":\"2026-12-06T10:00:01.000Z\",\"inode\":\(inode)}\n"
        try Data(heldState.utf8).write(to: stateFolder.appendingPathComponent("twin.json"))
        try sandbox.drop("twin.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/new"))
        return (stateFolder, heldState)
    }

    /// A job set aside under a name whose `.state/` file is a namesake's (one held in hold/
    /// with three attempts made) gets a clash name, so the namesake keeps its attempts.
    func testAJobSetAsideNeverTakesTheStateOfANamesakeInHold() throws {
        let (stateFolder, heldState) = try namesakeHeldWithItsState()

        try drain(["--max-wait", "0"], expect: 75)

        XCTAssertEqual(sandbox.jobs(in: "deferred"), ["twin~1.json"], "the new job got a name of its own")
        XCTAssertEqual(String(decoding: try Data(contentsOf: stateFolder.appendingPathComponent("twin.json")), as: UTF8.self), heldState,
                       "the held job's state is untouched")
        let state = try JSONSerialization.jsonObject(with: Data(contentsOf: stateFolder.appendingPathComponent("twin~1.json"))) as? [String: Any]
        XCTAssertEqual(state?["attempts"] as? Int, 1)
    }

    /// A job set aside whose state took a clash name (a namesake in hold/ has the plain one),
    /// and whose move into deferred/ then fails: it goes back to deferred/ under the name its
    /// state and its line have, so the next process finds its attempts.
    func testAFailedMoveIntoDeferredPutsTheJobBackUnderItsStatesName() throws {
        let (stateFolder, heldState) = try namesakeHeldWithItsState()
        // The renames under active/: the claim (1st), then the move out into deferred/ (2nd).
        let log = sandbox.root.appendingPathComponent("faults.log")
        let draining = try OutboundProcess(["drain", "--max-wait", "0", "--spool", sandbox.spool.path, "--config", sandbox.config.path],
                                           environment: FaultLibrary.failing("rename", call: 2, errno: "EIO",
                                                                            under: sandbox.spool.appendingPathComponent("active"), log: log))
        XCTAssertEqual(draining.wait(timeout: 30), 74, "stderr: \(draining.standardError)")
        let injected = FaultLibrary.injected(log: log)
        XCTAssertEqual(injected.count, 1, "\(injected)")
        XCTAssertTrue(injected.first?.hasSuffix("/twin.json") == true, "the move out of the claim folder failed: \(injected)")

        XCTAssertEqual(sandbox.jobs(in: "deferred"), ["twin~1.json"], "back under the name of its state")
        let jobInode = try XCTUnwrap((try FileManager.default.attributesOfItem(
            atPath: sandbox.spool.appendingPathComponent("deferred/twin~1.json").path))[.systemFileNumber] as? UInt64)
        let state = try JSONSerialization.jsonObject(with: Data(contentsOf: stateFolder.appendingPathComponent("twin~1.json"))) as? [String: Any]
        XCTAssertEqual((state?["inode"] as? NSNumber)?.uint64Value, jobInode)
        XCTAssertEqual(state?["attempts"] as? Int, 1)
        XCTAssertEqual(String(decoding: try Data(contentsOf: stateFolder.appendingPathComponent("twin.json")), as: UTF8.self), heldState)
        XCTAssertEqual(sandbox.audit("deferred").compactMap { $0["file"] as? String }, ["twin~1.json"])
    }

    /// Another process saves a state under the very name a job set aside has just chosen,
    /// between the look and the save (here while the job's own state waits on a slow disk):
    /// the save does not replace that state, and the job takes the next name.
    func testAStateSavedUnderTheSameNameMeanwhileIsNeverReplaced() throws {
        try makeSandbox(serverHandler: { _ in .respond(status: 503) }, settings: [
            "retry": ["maxAttempts": 5, "baseDelayMs": 60000, "maxDelayMs": 60000, "maxAgeSeconds": 3600],
        ])
        let stateFolder = sandbox.spool.appendingPathComponent(".state")
        try FileManager.default.createDirectory(at: stateFolder, withIntermediateDirectories: true)
        try sandbox.drop("race.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/race"))
        let draining = try OutboundProcess(["drain", "--max-wait", "0", "--spool", sandbox.spool.path, "--config", sandbox.config.path],
                                           environment: FaultLibrary.slowingFsyncs(under: stateFolder, milliseconds: 1500))
        // The job's state is written to a temporary file, which then waits 1.5 s for its fsync.
        waitUntilAStateSaveIsUnderWay()
        let otherState = "{\"attempts\":4,\"firstClaimedAt\":\"2026-12-06T10:00:00.000Z\",\"nextAttemptAt\":\"2099-01-01T00:00:00.000Z\",\"inode\":1}\n"
        try Data(otherState.utf8).write(to: stateFolder.appendingPathComponent("race.json"))

        XCTAssertEqual(draining.wait(timeout: 30), 75, "stderr: \(draining.standardError)")
        XCTAssertEqual(sandbox.jobs(in: "deferred"), ["race~1.json"], "the job took the next name")
        XCTAssertEqual(String(decoding: try Data(contentsOf: stateFolder.appendingPathComponent("race.json")), as: UTF8.self), otherState,
                       "the other process's state is untouched")
        let state = try JSONSerialization.jsonObject(with: Data(contentsOf: stateFolder.appendingPathComponent("race~1.json"))) as? [String: Any]
        XCTAssertEqual(state?["attempts"] as? Int, 1)
        XCTAssertEqual(sandbox.audit("deferred").first?["file"] as? String, "race~1.json")
    }
}
