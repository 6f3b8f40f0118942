import Foundation
import OutboundTestSupport
import XCTest

/// `outbound audit tail`: filtered, readable lines; with -f, new lines as they come, across a
/// rotation, until interrupted. It never writes to the log.
final class AuditTailTests: IntegrationTestCase {
    private func tailArguments(_ extra: [String]) -> [String] {
        ["audit", "tail"] + extra + ["--spool", sandbox.spool.path, "--config", sandbox.config.path]
    }

    func testTailShowsTheLinesAFilterLetThroughReadably() throws {
        try makeSandbox()
        try sandbox.drop("a.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/a?token=secret"))
        try sandbox.drop("b.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/b"))
        try drain()
        let before = sandbox.auditText
        let result = try OutboundProcess.run(tailArguments(["--event", "delivered", "--job", "a"]))
        XCTAssertEqual(result.status, 0, result.standardError)
        let lines = result.standardOutput.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, result.standardOutput)
        XCTAssertTrue(lines.first?.contains(" delivered  job=a ") == true, result.standardOutput)
        XCTAssertTrue(lines.first?.contains("status=204") == true)
        XCTAssertFalse(result.standardOutput.contains("seq=") || result.standardOutput.contains("prev="), "the link is left out")

        let json = try OutboundProcess.run(tailArguments(["--json", "--event", "accepted", "--since", "1h"]))
        XCTAssertEqual(json.standardOutput.split(separator: "\n").count, 2, json.standardOutput)
        XCTAssertTrue(json.standardOutput.contains("\"seq\":"), "--json prints the lines as they are")
        let none = try OutboundProcess.run(tailArguments(["--client", "nobody"]))
        XCTAssertEqual(none.standardOutput, "")
        XCTAssertEqual(sandbox.auditText, before, "tail never writes to the log")
    }

    func testTailFollowsNewLinesAcrossARotation() throws {
        try makeSandbox()
        try drain()
        // --since reads from the start, so no line can slip by before the follower opens the log.
        let follower = try OutboundProcess(tailArguments(["-f", "--event", "delivered", "--since", "1h"]))
        defer { follower.signal(SIGKILL); follower.wait(timeout: 5) }
        try sandbox.drop("first.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/first"))
        try drain()
        XCTAssertTrue(SpoolSandbox.waitUntil { follower.standardOutput.contains("job=first") }, follower.standardOutput)
        try FileManager.default.moveItem(at: sandbox.auditLog, to: sandbox.spool.appendingPathComponent("audit.jsonl.1"))
        try sandbox.drop("second.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/second"))
        try drain()
        XCTAssertTrue(SpoolSandbox.waitUntil { follower.standardOutput.contains("job=second") }, follower.standardOutput)
        XCTAssertEqual(follower.standardOutput.split(separator: "\n").count, 2, follower.standardOutput)
        follower.signal(SIGTERM)
        XCTAssertEqual(follower.wait(timeout: 10), 0, "interrupted, it stops cleanly")
    }
}
