import Foundation
import OutboundTestSupport
import XCTest

/// Contract section 9: `enqueue` and `replay`, the safe way in.
final class EnqueueTests: IntegrationTestCase {
    private func jobData(_ job: [String: Any]) throws -> Data {
        try JSONSerialization.data(withJSONObject: job, options: [.sortedKeys])
    }

    func testEnqueueDropsTheJobAndPrintsItsName() throws {
        try makeSandbox()
        let file = sandbox.root.appendingPathComponent("up-1.json")
        try jobData(SpoolSandbox.job(url: "\(server.baseURL)/hooks/e")).write(to: file)
        let result = try sandbox.outbound(["enqueue", file.path])
        XCTAssertEqual(result.status, 0, result.standardError)
        XCTAssertEqual(result.standardOutput, "up-1.json\n")
        XCTAssertEqual(sandbox.jobs(in: "incoming"), ["up-1.json"])
        XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: sandbox.spool.appendingPathComponent("tmp").path)) ?? [], [])
        let line = try XCTUnwrap(assertAudit("enqueued", job: "up-1").first)
        XCTAssertNotNil(line["by"] as? String)
        try drain()
        assertJob("up-1.json", isIn: "delivered")
        // The enqueued line comes before the dispatcher's accepted line.
        let events = sandbox.auditLines.compactMap { $0["event"] as? String }
        XCTAssertLessThan(events.firstIndex(of: "enqueued")!, events.firstIndex(of: "accepted")!)
    }

    func testEnqueueFromStandardInputNamesTheJobAfterItsId() throws {
        try makeSandbox()
        let withId = try sandbox.outbound(["enqueue", "-"], input: try jobData(SpoolSandbox.job(url: "\(server.baseURL)/hooks/s", extra: ["id": "adt-42"])))
        XCTAssertEqual(withId.status, 0, withId.standardError)
        XCTAssertEqual(withId.standardOutput, "adt-42.json\n")
        let withoutId = try sandbox.outbound(["enqueue", "-"], input: try jobData(SpoolSandbox.job(url: "\(server.baseURL)/hooks/s")))
        XCTAssertEqual(withoutId.status, 0, withoutId.standardError)
        let name = withoutId.standardOutput.trimmingCharacters(in: .newlines)
        XCTAssertEqual(sandbox.jobs(in: "incoming"), ["adt-42.json", name].sorted())
    }

    func testInvalidOrRefusedJobsAreNotWritten() throws {
        try makeSandbox()
        let cases: [(Data, String)] = [
            (try jobData(SpoolSandbox.job(url: "\(server.baseURL)/hooks/x", extra: ["clientId": SpoolSandbox.inactiveClient])), "inactive_client_id"),
            (try jobData(SpoolSandbox.job(url: "http://elsewhere.example/hooks/x")), "endpoint_not_allowed"),
            (try jobData(SpoolSandbox.job(url: "\(server.baseURL)/hooks/x", extra: ["colour": "blue"])), "invalid_job"),
            (Data("{\"clientId\":".utf8), "invalid_json"),
        ]
        for (bytes, reason) in cases {
            let result = try sandbox.outbound(["enqueue", "-"], input: bytes)
            XCTAssertEqual(result.status, 65, reason)
            XCTAssertTrue(result.standardError.contains(reason), result.standardError)
            XCTAssertEqual(result.standardOutput, "")
        }
        // Several files: one bad one and nothing is written.
        let good = sandbox.root.appendingPathComponent("good.json")
        try jobData(SpoolSandbox.job(url: "\(server.baseURL)/hooks/g")).write(to: good)
        let bad = sandbox.root.appendingPathComponent("bad.json")
        try cases[0].0.write(to: bad)
        XCTAssertEqual(try sandbox.outbound(["enqueue", good.path, bad.path]).status, 65)
        XCTAssertEqual(sandbox.jobs(in: "incoming"), [])
        XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: sandbox.spool.appendingPathComponent("tmp").path)) ?? [], [])
        XCTAssertEqual(sandbox.audit("enqueued").count, 0)
    }

    func testAnExistingNameIsAnErrorNotAnOverwrite() throws {
        try makeSandbox()
        let original = try sandbox.drop("same.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/one"))
        let before = try Data(contentsOf: original)
        let file = sandbox.root.appendingPathComponent("same.json")
        try jobData(SpoolSandbox.job(url: "\(server.baseURL)/hooks/two")).write(to: file)
        let result = try sandbox.outbound(["enqueue", file.path])
        XCTAssertEqual(result.status, 65)
        XCTAssertTrue(result.standardError.contains("exists already"), result.standardError)
        XCTAssertEqual(try Data(contentsOf: original), before)
    }

    func testSpoolNotWritableIs75() throws {
        try makeSandbox()
        let file = sandbox.root.appendingPathComponent("w.json")
        try jobData(SpoolSandbox.job(url: "\(server.baseURL)/hooks/w")).write(to: file)
        // A file where the tmp/ folder should be: nothing can be written there, even as root.
        let tmp = sandbox.spool.appendingPathComponent("tmp")
        try FileManager.default.removeItem(at: tmp)
        try Data().write(to: tmp)
        let result = try sandbox.outbound(["enqueue", file.path])
        XCTAssertEqual(result.status, 75, result.standardError)
        XCTAssertEqual(sandbox.jobs(in: "incoming"), [])
    }

    func testReplayRewritesOnlyTheURLMember() throws {
        try makeSandbox()
        let saved = sandbox.root.appendingPathComponent("saved")
        try FileManager.default.createDirectory(at: saved, withIntermediateDirectories: true)
        // Odd spacing, member order and escapes: every byte but the url value's must survive.
        let text = "{ \"url\" :\"http://old.example:8080/hooks/r1?x=1\",\n  \"clientId\":\"\(SpoolSandbox.activeClient)\","
            + "\"service\":\"ADT.Notify\", \"body\" : \"caf\\u00e9 \\\"q\\\"\" }\n"
        try Data(text.utf8).write(to: saved.appendingPathComponent("r1.json"))
        let result = try sandbox.outbound(["replay", saved.path, "--rewrite", "http://old.example:8080=\(server.baseURL)"])
        XCTAssertEqual(result.status, 0, result.standardError)
        XCTAssertEqual(result.standardOutput, "r1.json\n")
        let written = try String(contentsOf: sandbox.spool.appendingPathComponent("incoming/r1.json"), encoding: .utf8)
        XCTAssertEqual(written, text.replacingOccurrences(of: "http://old.example:8080", with: server.baseURL))
        XCTAssertEqual(assertAudit("enqueued", job: "r1").first?["replayOf"] as? String, saved.appendingPathComponent("r1.json").path)
        try drain()
        assertJob("r1.json", isIn: "delivered")
        XCTAssertEqual(server.requests.first?.target, "/hooks/r1?x=1")
        XCTAssertEqual(server.requests.first?.header("Idempotency-Key"), "r1", "the job keeps its id")
    }
}
