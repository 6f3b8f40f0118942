import Foundation
import OutboundTestSupport
import XCTest

/// Crash safety, the small version of `scripts/crash-test`: three trials of 500 jobs, each an
/// `outbound run` killed with SIGKILL at a random moment, then `outbound drain`. The script
/// checks that every job is in exactly one folder, that every delivered job reached the
/// receiver, that none vanished, and that duplicates stay within the claims at the kill.
final class CrashTests: XCTestCase {
    /// The repository root: three levels up from this file (Tests/OutboundIntegrationTests/).
    private static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func testKilledRunsLoseNothing() throws {
        let script = Self.repositoryRoot.appendingPathComponent("scripts/crash-test")
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: script.path), "\(script.path) is missing or not executable")
        let binary = OutboundProcess.binaryURL.path
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: binary), "no outbound binary at \(binary)")

        // Output goes to a file, so a chatty run can never block on a full pipe.
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("outbound-crash-test-\(UUID().uuidString).log")
        XCTAssertTrue(FileManager.default.createFile(atPath: log.path, contents: nil), "cannot create \(log.path)")
        defer { try? FileManager.default.removeItem(at: log) }
        let output = try FileHandle(forWritingTo: log)
        defer { try? output.close() }

        let process = Process()
        process.executableURL = script
        process.arguments = ["--trials", "3", "--jobs", "500", "--bin", binary]
        process.currentDirectoryURL = Self.repositoryRoot
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()

        let deadline = Date().addingTimeInterval(90)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        let timedOut = process.isRunning
        if timedOut {
            // The script passes SIGTERM on: its driver kills the outbound processes it started.
            process.terminate()
            let grace = Date().addingTimeInterval(10)
            while process.isRunning && Date() < grace { usleep(50_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""

        XCTAssertFalse(timedOut, "scripts/crash-test took longer than 90 s:\n\(text)")
        XCTAssertEqual(process.terminationStatus, 0, "scripts/crash-test failed:\n\(text)")
        // The closing tally, `lost=L duplicated=D trials=T`, not a trial's own line.
        let tally = text.split(separator: "\n").last { $0.hasPrefix("lost=") }.map(String.init) ?? ""
        XCTAssertTrue(tally.hasPrefix("lost=0 "), "no job may be lost; tally '\(tally)':\n\(text)")
        XCTAssertTrue(tally.hasSuffix(" trials=3"), "three trials ran; tally '\(tally)':\n\(text)")
        XCTAssertTrue(text.contains("3 passed, 0 failed"), "every trial passed:\n\(text)")
    }
}
