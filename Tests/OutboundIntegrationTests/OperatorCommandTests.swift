import Foundation
import OutboundTestSupport
import XCTest

/// The status a test's receiver answers, changed while the test runs.
final class ReceiverStatus: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Int
    init(_ status: Int) { value = status }
    var status: Int {
        get { lock.lock(); defer { lock.unlock() }; return value }
        set { lock.lock(); value = newValue; lock.unlock() }
    }
}

/// Contract section 9: requeue, hold, release and purge, and their bad input.
final class OperatorCommandTests: IntegrationTestCase {
    private func run(_ arguments: [String], input: Data? = nil, expect status: Int32, file: StaticString = #filePath,
                     line: UInt = #line) throws -> OutboundProcess.Result {
        let result = try sandbox.outbound(arguments, input: input)
        XCTAssertEqual(result.status, status, "outbound \(arguments.joined(separator: " ")): \(result.standardError)", file: file, line: line)
        return result
    }

    private var stateFolder: URL { sandbox.spool.appendingPathComponent(".state") }

    /// More than one batch (1,000 jobs each): every old sidecar goes before the command ends,
    /// the last batches' too, which are removed in the background while the next batch moves.
    func testRequeueOfSeveralBatchesRemovesEverySidecarBeforeItEnds() throws {
        try makeSandbox()
        let failed = sandbox.spool.appendingPathComponent("failed")
        try FileManager.default.createDirectory(at: failed, withIntermediateDirectories: true)
        let job = try JSONSerialization.data(withJSONObject: SpoolSandbox.job(url: "\(server.baseURL)/hooks/batch"))
        let sidecar = Data(#"{"reason":"http_status","message":"HTTP 404","at":"2026-12-07T00:00:00.000Z","attempts":1,"status":404}"#.utf8)
        for index in 0..<2_500 {
            let name = String(format: "b%04d.json", index)
            try job.write(to: failed.appendingPathComponent(name))
            try sidecar.write(to: failed.appendingPathComponent(name + ".reason"))
        }
        try run(["requeue", "--from", "failed"], expect: 0)
        let left = try FileManager.default.contentsOfDirectory(atPath: failed.path)
        XCTAssertEqual(left.count, 0, "no job and no sidecar is left; left: \(left.sorted().prefix(3)) …")
        XCTAssertEqual(sandbox.jobs(in: "incoming").count, 2_500)
        XCTAssertEqual(sandbox.audit("requeued").count, 2_500)
    }

    private func setAge(_ name: String, in folder: String, seconds: TimeInterval) throws {
        let path = sandbox.spool.appendingPathComponent(folder).appendingPathComponent(name).path
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-seconds)], ofItemAtPath: path)
    }

    func testRequeueFromFailedStartsAfreshAndKeepsTheSidecarInTheAuditLine() throws {
        let receiver = ReceiverStatus(500)
        try makeSandbox(serverHandler: { _ in .respond(status: receiver.status) })
        try sandbox.drop("r1.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/r1"))
        try drain()
        assertJob("r1.json", isIn: "failed")
        XCTAssertNotNil(sandbox.reason(of: "r1.json", in: "failed"))

        let dry = try run(["requeue", "--from", "failed", "--dry-run"], expect: 0)
        XCTAssertTrue(dry.standardOutput.contains("would requeue 1 job"), dry.standardOutput)
        assertJob("r1.json", isIn: "failed")

        let result = try run(["requeue", "--from", "failed", "--reason", "retries_exhausted"], expect: 0)
        XCTAssertTrue(result.standardOutput.contains("requeued 1 job"), result.standardOutput)
        assertJob("r1.json", isIn: "incoming")
        XCTAssertNil(sandbox.reason(of: "r1.json", in: "failed"), "the old sidecar goes")
        let line = try XCTUnwrap(assertAudit("requeued", job: "r1").first)
        XCTAssertEqual(line["from"] as? String, "failed")
        XCTAssertEqual(line["reason"] as? String, "retries_exhausted")
        XCTAssertEqual(line["attempt"] as? Int, 3)
        XCTAssertEqual(line["by"] as? String, NSUserName())

        receiver.status = 204
        try drain()
        assertJob("r1.json", isIn: "delivered")
        // A fresh attempt count: the delivery is attempt 1, not 4.
        XCTAssertEqual(assertAudit("delivered", job: "r1").first?["attempt"] as? Int, 1)
    }

    func testHoldAndReleaseKeepRetryState() throws {
        let receiver = ReceiverStatus(503)
        try makeSandbox(serverHandler: { _ in .respond(status: receiver.status) }, settings: [
            "retry": ["maxAttempts": 5, "baseDelayMs": 60000, "maxDelayMs": 60000, "maxAgeSeconds": 3600],
        ])
        try sandbox.drop("h1.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/h1"))
        try drain(["--max-wait", "0.5"], expect: 75)
        assertJob("h1.json", isIn: "deferred")

        let held = try run(["hold", "h1"], expect: 0)
        XCTAssertTrue(held.standardOutput.contains("held deferred/h1.json -> hold/h1.json"), held.standardOutput)
        assertJob("h1.json", isIn: "hold")
        XCTAssertTrue(FileManager.default.fileExists(atPath: stateFolder.appendingPathComponent("h1.json").path), "state kept")
        XCTAssertEqual(assertAudit("held", job: "h1").first?["from"] as? String, "deferred")
        let listed = try run(["list", "hold", "--json"], expect: 0)
        let entry = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(listed.standardOutput.utf8)) as? [String: Any])
        XCTAssertEqual(entry["attempts"] as? Int, 1)

        // Held: a drain does not send it.
        try drain()
        XCTAssertEqual(server.requestCount, 1)
        assertJob("h1.json", isIn: "hold")

        _ = try run(["release", "--all"], expect: 0)
        assertJob("h1.json", isIn: "incoming")
        XCTAssertEqual(assertAudit("released", job: "h1").first?["from"] as? String, "hold")
        receiver.status = 204
        try drain()
        assertJob("h1.json", isIn: "delivered")
        XCTAssertEqual(assertAudit("delivered", job: "h1").first?["attempt"] as? Int, 2, "the attempt count went on")
    }

    /// A job held under a clash name takes its retry state along, but never onto the state
    /// file of another job that has that name: it goes under the next free name.
    func testHoldUnderAClashNameKeepsAnotherJobsState() throws {
        try makeSandbox(serverHandler: { _ in .respond(status: 503) }, settings: [
            "retry": ["maxAttempts": 5, "baseDelayMs": 60000, "maxDelayMs": 60000, "maxAgeSeconds": 3600],
        ])
        try sandbox.drop("h1.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/h1"))
        try drain(["--max-wait", "0.5"], expect: 75)
        assertJob("h1.json", isIn: "deferred")
        // A namesake already held, and another job whose name is h1's first clash name, set
        // aside with four attempts made.
        let fileManager = FileManager.default
        let hold = sandbox.spool.appendingPathComponent("hold")
        try fileManager.createDirectory(at: hold, withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: SpoolSandbox.job(url: "\(server.baseURL)/hooks/held")).write(to: hold.appendingPathComponent("h1.json"))
        let other = sandbox.spool.appendingPathComponent("deferred/h1~1.json")
        var otherJob = SpoolSandbox.job(url: "\(server.baseURL)/hooks/other")
        otherJob["id"] = "other"
        try JSONSerialization.data(withJSONObject: otherJob).write(to: other)
        let otherInode = try XCTUnwrap(fileManager.attributesOfItem(atPath: other.path)[.systemFileNumber] as? NSNumber).uint64Value
        let otherState = #"{"attempts":4,"firstClaimedAt":"2026-12-06T00:00:00.000Z","nextAttemptAt":"2099-01-01T00:00:00.000Z","inode":\#(otherInode)}"#
        try Data((otherState + "\n").utf8).write(to: stateFolder.appendingPathComponent("h1~1.json"))

        let held = try run(["hold", "h1"], expect: 0)
        XCTAssertTrue(held.standardOutput.contains("held deferred/h1.json -> hold/h1~2.json"), held.standardOutput)
        assertJob("h1~2.json", isIn: "hold")
        XCTAssertEqual(try String(contentsOf: stateFolder.appendingPathComponent("h1~1.json"), encoding: .utf8), otherState + "\n",
                       "the other job's state is untouched")
        let moved = try JSONSerialization.jsonObject(with: Data(contentsOf: stateFolder.appendingPathComponent("h1~2.json"))) as? [String: Any]
        XCTAssertEqual(moved?["attempts"] as? Int, 1, "h1's state followed it")
        XCTAssertFalse(fileManager.fileExists(atPath: stateFolder.appendingPathComponent("h1.json").path))
    }

    /// Holding a new job whose name is a held job's: it goes to hold/ under a clash name and,
    /// having no state, takes none: the held job keeps its state under its own name.
    func testHoldOfAStatelessNamesakeLeavesTheHeldJobsState() throws {
        try makeSandbox(serverHandler: { _ in .respond(status: 503) }, settings: [
            "retry": ["maxAttempts": 5, "baseDelayMs": 60000, "maxDelayMs": 60000, "maxAgeSeconds": 3600],
        ])
        try sandbox.drop("h1.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/h1"))
        try drain(["--max-wait", "0.5"], expect: 75)
        _ = try run(["hold", "h1"], expect: 0)
        assertJob("h1.json", isIn: "hold")
        let stateBefore = try Data(contentsOf: stateFolder.appendingPathComponent("h1.json"))
        try sandbox.drop("h1.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/new"))

        let held = try run(["hold", "h1"], expect: 0)
        XCTAssertTrue(held.standardOutput.contains("held incoming/h1.json -> hold/h1~1.json"), held.standardOutput)
        XCTAssertEqual(try Data(contentsOf: stateFolder.appendingPathComponent("h1.json")), stateBefore, "the held job keeps its state")
        XCTAssertFalse(FileManager.default.fileExists(atPath: stateFolder.appendingPathComponent("h1~1.json").path),
                       "the new job has no state to take along")
    }

    func testRequeueFromDeferredForgetsTheRetryState() throws {
        let receiver = ReceiverStatus(503)
        try makeSandbox(serverHandler: { _ in .respond(status: receiver.status) }, settings: [
            "retry": ["maxAttempts": 5, "baseDelayMs": 60000, "maxDelayMs": 60000, "maxAgeSeconds": 3600],
        ])
        try sandbox.drop("d1.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/d1"))
        try drain(["--max-wait", "0.5"], expect: 75)
        assertJob("d1.json", isIn: "deferred")
        _ = try run(["requeue", "d1"], expect: 0)
        assertJob("d1.json", isIn: "incoming")
        XCTAssertFalse(FileManager.default.fileExists(atPath: stateFolder.appendingPathComponent("d1.json").path), "state gone")
        XCTAssertEqual(assertAudit("requeued", job: "d1").first?["from"] as? String, "deferred")
        receiver.status = 204
        try drain()
        XCTAssertEqual(assertAudit("delivered", job: "d1").first?["attempt"] as? Int, 1, "a fresh attempt count")
    }

    func testHoldByClientTakesIncomingJobsOfThatClientOnly() throws {
        try makeSandbox()
        try sandbox.drop("a.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/a"))
        try sandbox.drop("b.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/b", extra: ["clientId": SpoolSandbox.inactiveClient]))
        let result = try run(["hold", "--client", SpoolSandbox.activeClient], expect: 0)
        XCTAssertTrue(result.standardOutput.contains("held 1 job"), result.standardOutput)
        assertJob("a.json", isIn: "hold")
        assertJob("b.json", isIn: "incoming")
    }

    func testBadInputIsOneLineAndMovesNothing() throws {
        try makeSandbox(serverHandler: { _ in .respond(status: 404) })
        try sandbox.drop("in.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/in"))
        let cases: [([String], Int32)] = [
            (["requeue", "nosuchjob"], 66),
            (["requeue", "in.json", "nosuchjob"], 66),
            (["requeue", "in"], 65),
            (["hold", "in", "--from", "incoming"], 64),
            (["requeue", "--from", "nowhere"], 64),
            (["requeue", "--from", "incoming"], 65),
            (["requeue", "--from", "failed", "--older-than", "ten days"], 64),
            (["purge", "incoming", "--older-than", "1d"], 64),
            (["purge", "deferred", "--older-than", "1d"], 64),
            (["purge", "failed"], 64),
            (["release", "in"], 65),
            (["show", "nosuchjob"], 66),
        ]
        for (arguments, status) in cases {
            let result = try run(arguments, expect: status)
            let lines = result.standardError.split(separator: "\n")
            // One clear line per problem (two named jobs, two problems: one is not found, one cannot leave).
            XCTAssertEqual(lines.count, arguments == ["requeue", "in.json", "nosuchjob"] ? 2 : 1, "\(arguments): \(result.standardError)")
            assertJob("in.json", isIn: "incoming")
        }
        XCTAssertEqual(sandbox.auditLines.count, 0, "nothing was written: \(sandbox.auditText)")
    }

    func testPurgeDeletesOldJobsWithSidecarsOnTheRecord() throws {
        try makeSandbox(serverHandler: { _ in .respond(status: 404) })
        try sandbox.drop("old.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/old"))
        try sandbox.drop("new.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/new"))
        try drain()
        try setAge("old.json", in: "failed", seconds: 3 * 86400)
        let dry = try run(["purge", "failed", "--older-than", "2d", "--dry-run"], expect: 0)
        XCTAssertTrue(dry.standardOutput.contains("would purge 1 job"), dry.standardOutput)
        assertJob("old.json", isIn: "failed")

        _ = try run(["purge", "failed/", "--older-than", "2d"], expect: 0)
        XCTAssertEqual(sandbox.jobs(in: "failed"), ["new.json"])
        XCTAssertNil(sandbox.reason(of: "old.json", in: "failed"), "its sidecar went too")
        XCTAssertNotNil(sandbox.reason(of: "new.json", in: "failed"))
        let line = try XCTUnwrap(assertAudit("purged", job: "old").first)
        XCTAssertEqual(line["from"] as? String, "failed")
        XCTAssertEqual(line["reason"] as? String, "http_status")
        XCTAssertNotNil(line["by"] as? String)
    }

    func testRequeueOfNamesOnStandardInput() throws {
        try makeSandbox(serverHandler: { _ in .respond(status: 404) })
        for name in ["s1", "s2", "s3"] {
            try sandbox.drop("\(name).json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/\(name)"))
        }
        try drain()
        let result = try run(["requeue", "-"], input: Data("s1\nfailed/s3.json\n\n".utf8), expect: 0)
        XCTAssertEqual(result.standardOutput.split(separator: "\n").count, 2, result.standardOutput)
        assertJob("s1.json", isIn: "incoming")
        assertJob("s2.json", isIn: "failed")
        assertJob("s3.json", isIn: "incoming")
    }
}
