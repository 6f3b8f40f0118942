import Foundation
import OutboundTestSupport
import XCTest

/// Contract section 11: `run --metrics-file` and `status --prometheus` write a valid
/// Prometheus exposition (checked with promtool) with the contract's metrics.
final class MetricsTests: IntegrationTestCase {
    /// `promtool check metrics` on `text`; the test fails loudly if promtool is missing
    /// (scripts/test installs it).
    private func promtool(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let tool = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let tool else {
            XCTFail("promtool is missing: install the Debian package 'prometheus' (scripts/test does)", file: file, line: line)
            return
        }
        let process = Process()
        let input = Pipe()
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = ["check", "metrics"]
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        let said = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(process.terminationStatus, 0, "promtool check metrics: \(said)\n\(text)", file: file, line: line)
    }

    func testRunWritesTheMetricsFileWithOutcomesAttemptsAndFolders() throws {
        try makeSandbox(serverHandler: { request in
            request.path.hasSuffix("/bad") ? .respond(status: 404) : .respond(status: 204)
        })
        let metricsFile = sandbox.root.appendingPathComponent("outbound.prom")
        let runner = try sandbox.startRun(["--metrics-file", metricsFile.path])
        defer { runner.signal(SIGKILL); runner.wait(timeout: 5) }
        XCTAssertTrue(SpoolSandbox.waitUntil { FileManager.default.fileExists(atPath: metricsFile.path) }, "written at start")
        for index in 0..<5 {
            try sandbox.drop("ok-\(index).json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/ok?secret=\(index)"))
        }
        try sandbox.drop("bad.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/bad"))
        XCTAssertTrue(SpoolSandbox.waitUntil { self.sandbox.jobs(in: "delivered").count == 5 && self.sandbox.jobs(in: "failed").count == 1 })
        runner.signal(SIGTERM)
        XCTAssertEqual(runner.wait(timeout: 30), 0, runner.standardError)

        let text = try String(contentsOf: metricsFile, encoding: .utf8)
        try promtool(text)
        for sample in [
            "outbound_jobs{folder=\"delivered\"} 5",
            "outbound_jobs{folder=\"failed\"} 1",
            "outbound_outcomes_total{outcome=\"delivered\",reason=\"none\"} 5",
            "outbound_outcomes_total{outcome=\"failed\",reason=\"http_status\"} 1",
            "outbound_attempts_total{result=\"2xx\"} 5",
            "outbound_attempts_total{result=\"4xx\"} 1",
            "outbound_attempt_duration_seconds_count 6",
            "outbound_transfers_in_flight 0",
            "# TYPE outbound_destination_open gauge",
            "# TYPE outbound_token_requests_total counter",
            "outbound_oldest_job_age_seconds{folder=\"incoming\"} 0",
        ] {
            XCTAssertTrue(text.contains(sample + "\n"), "\(sample) in the file written at exit:\n\(text)")
        }
        XCTAssertFalse(text.contains("/hooks") || text.contains("secret") || text.contains("127.0.0.1"), "no URL in a label")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: sandbox.root.path).filter { $0.hasPrefix(".tmp") }
        XCTAssertEqual(leftovers, [], "the temporary file was renamed over the metrics file")
    }

    func testStatusPrometheusPrintsTheSpoolGaugesAndTheFamilies() throws {
        try makeSandbox()
        try sandbox.drop("waiting.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/a"))
        let result = try OutboundProcess.run(["status", "--prometheus", "--spool", sandbox.spool.path, "--config", sandbox.config.path])
        XCTAssertEqual(result.status, 0, result.standardError)
        try promtool(result.standardOutput)
        XCTAssertTrue(result.standardOutput.contains("outbound_jobs{folder=\"incoming\"} 1\n"), result.standardOutput)
        XCTAssertTrue(result.standardOutput.contains("# TYPE outbound_outcomes_total counter\n"))
        XCTAssertFalse(result.standardOutput.contains("outbound_outcomes_total{"), "a status process has no counters of its own")
    }
}
