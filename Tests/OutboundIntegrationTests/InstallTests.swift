import Foundation
import OutboundTestSupport
import XCTest

/// `scripts/install` and the files it installs (scripts/install.d/): the systemd units pass
/// `systemd-analyze verify`, and the logrotate file rotates a live `outbound run`'s audit log
/// without breaking the hash chain. scripts/test installs systemd and logrotate when missing.
final class InstallTests: IntegrationTestCase {
    private var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    @discardableResult
    private func run(_ tool: String, _ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> (Int32, String) {
        let process = Process()
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    private func tool(_ name: String) throws -> String {
        let found = ["/usr/bin/", "/usr/sbin/", "/bin/", "/sbin/"].map { $0 + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
        return try XCTUnwrap(found, "\(name) is missing: scripts/test installs it")
    }

    /// Installs under a scratch prefix (so ExecStart names a binary that exists).
    private func install() throws -> URL {
        let root = sandbox.root.appendingPathComponent("installed")
        let (status, output) = try run(repository.appendingPathComponent("scripts/install").path, [
            "--prefix", root.appendingPathComponent("usr").path, "--logrotate-dir", root.appendingPathComponent("etc/logrotate.d").path,
            "--binary", OutboundProcess.binaryURL.path,
        ])
        XCTAssertEqual(status, 0, output)
        return root
    }

    func testInstallPutsTheBinaryUnitsAndLogrotateFileInPlaceAndTheUnitsVerify() throws {
        try makeSandbox()
        let root = try install()
        let units = root.appendingPathComponent("usr/lib/systemd/system")
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: root.appendingPathComponent("usr/bin/outbound").path))
        for unit in ["outbound.service", "outbound@.service"] {
            let text = try String(contentsOf: units.appendingPathComponent(unit), encoding: .utf8)
            XCTAssertTrue(text.contains("ExecStart=\(root.path)/usr/bin/outbound run"), text)
            XCTAssertTrue(text.contains("LimitNOFILE=65536"), "\(unit) raises the descriptor limit")
            let (status, output) = try run(try tool("systemd-analyze"), ["verify", units.appendingPathComponent(unit).path])
            XCTAssertEqual(status, 0, "systemd-analyze verify \(unit): \(output)")
        }
        // A debug run of the installed logrotate file on a scratch log.
        let log = sandbox.root.appendingPathComponent("scratch/audit.jsonl")
        try FileManager.default.createDirectory(at: log.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("{}\n".utf8).write(to: log)
        let config = try String(contentsOf: root.appendingPathComponent("etc/logrotate.d/outbound"), encoding: .utf8)
            .replacingOccurrences(of: "/var/spool/outbound/audit.jsonl", with: log.path)
            .replacingOccurrences(of: "su outbound outbound", with: "su root root")
        let configFile = sandbox.root.appendingPathComponent("logrotate.conf")
        try Data(config.utf8).write(to: configFile)
        let (status, output) = try run(try tool("logrotate"), ["-d", "-s", sandbox.root.appendingPathComponent("state").path, configFile.path])
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.contains("considering log \(log.path)"), output)
    }

    func testTheInstalledLogrotateFileRotatesARunningProcessesLogAndTheChainHolds() throws {
        try makeSandbox()
        let root = try install()
        let runner = try sandbox.startRun()
        defer { runner.signal(SIGKILL); runner.wait(timeout: 5) }
        XCTAssertTrue(SpoolSandbox.waitUntil { self.sandbox.audit("started").count == 1 })
        try sandbox.drop("before.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/before"))
        XCTAssertTrue(SpoolSandbox.waitUntil { self.sandbox.jobs(in: "delivered").count == 1 })

        // The installed file, aimed at this spool, reloading this process instead of systemd's.
        let config = try String(contentsOf: root.appendingPathComponent("etc/logrotate.d/outbound"), encoding: .utf8)
            .replacingOccurrences(of: "/var/spool/outbound/audit.jsonl", with: sandbox.auditLog.path)
            .replacingOccurrences(of: "su outbound outbound", with: "su root root")
            .replacingOccurrences(of: "systemctl reload outbound.service", with: "kill -HUP \(runner.pid)")
        let configFile = sandbox.root.appendingPathComponent("logrotate.conf")
        try Data(config.utf8).write(to: configFile)
        let (status, output) = try run(try tool("logrotate"), ["-f", "-s", sandbox.root.appendingPathComponent("state").path, configFile.path])
        XCTAssertEqual(status, 0, output)
        let rotated = sandbox.spool.appendingPathComponent("audit.jsonl.1")
        XCTAssertTrue(FileManager.default.fileExists(atPath: rotated.path), "delaycompress keeps the first rotation plain: \(output)")

        try sandbox.drop("after.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/after"))
        XCTAssertTrue(SpoolSandbox.waitUntil { self.sandbox.jobs(in: "delivered").count == 2 })
        runner.signal(SIGTERM)
        XCTAssertEqual(runner.wait(timeout: 30), 0, runner.standardError)
        XCTAssertEqual(sandbox.audit("delivered", job: nil).map { $0["job"] as? String }, ["after"], "new lines went to the new file")
        let verified = try OutboundProcess.run(["audit", "verify", rotated.path, sandbox.auditLog.path,
                                                "--spool", sandbox.spool.path, "--config", sandbox.config.path])
        XCTAssertEqual(verified.status, 0, verified.standardError)
        XCTAssertTrue(verified.standardOutput.contains("seq 1 to"), verified.standardOutput)
    }
}
