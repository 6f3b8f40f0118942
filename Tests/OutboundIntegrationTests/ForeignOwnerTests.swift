import Foundation
import OutboundTestSupport
import XCTest

/// Upstream writers usually run as other users than the dispatcher. Outbound reads job files
/// without touching their access time where it may (O_NOATIME); for files of another user
/// the kernel refuses that, and the files must be read all the same.
final class ForeignOwnerTests: IntegrationTestCase {
    func testJobsWrittenByAnotherUserAreDelivered() throws {
        try makeSandbox()
        for index in 0..<20 {
            try sandbox.drop(String(format: "theirs-%02d.json", index), job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/\(index)"))
        }
        let result: OutboundProcess.Result
        if geteuid() == 0 {
            // The files belong to root; the dispatcher runs as nobody, which may rename them
            // (the folders are open to all here) but not open them with O_NOATIME.
            result = try drainAsNobody()
        } else {
            // Not root: the files are the dispatcher's own and the plain path is taken.
            result = try sandbox.drain()
        }
        XCTAssertEqual(result.status, 0, result.standardError)
        XCTAssertEqual(sandbox.jobs(in: "delivered").count, 20, result.standardError)
        XCTAssertEqual(sandbox.jobs(in: "corrupt"), [])
        XCTAssertEqual(server.requestCount, 20)
    }

    /// A job file the dispatcher may not move out of incoming/ (the folder is not writable
    /// for it) is reported by name once, stays where it is, and does not hold the drain open:
    /// the drain ends at once with exit 74. It used to retry such a file in a tight loop,
    /// printing the error on every pass, and never end.
    func testAJobThatCannotBeMovedOutOfIncomingEndsTheDrainWithExit74() throws {
        try makeSandbox()
        try sandbox.drop("stuck-1.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/1"))
        try sandbox.drop("stuck-2.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/2"))
        let incoming = sandbox.spool.appendingPathComponent("incoming").path
        let result: OutboundProcess.Result
        if geteuid() == 0 {
            // Root may write anywhere; nobody may not write a folder of root's with mode 755.
            result = try drainAsNobody { XCTAssertEqual(chmod(incoming, 0o755), 0) }
        } else {
            XCTAssertEqual(chmod(incoming, 0o555), 0)
            defer { chmod(incoming, 0o755) }
            result = try sandbox.drain(timeout: 30)
        }
        XCTAssertEqual(result.status, 74, result.standardError)
        XCTAssertEqual(sandbox.jobs(in: "incoming"), ["stuck-1.json", "stuck-2.json"])
        XCTAssertEqual(server.requestCount, 0)
        XCTAssertEqual(sandbox.audit("accepted").count, 0)
        for name in ["stuck-1.json", "stuck-2.json"] {
            XCTAssertEqual(result.standardError.components(separatedBy: "incoming/\(name)").count - 1, 1,
                           "\(name) is named once: \(result.standardError)")
        }
        XCTAssertTrue(result.standardError.contains("2 job file(s) could not be moved out of incoming/"), result.standardError)
        XCTAssertTrue(result.standardOutput.contains("drain: delivered=0"), result.standardOutput)
    }

    /// Runs a copy of the binary as nobody (setpriv), with the sandbox opened to all and then
    /// `adjust` applied; it is killed after 30 seconds (exit 124) rather than left to hang.
    private func drainAsNobody(adjust: () -> Void = {}) throws -> OutboundProcess.Result {
        let fileManager = FileManager.default
        let binary = sandbox.root.appendingPathComponent("outbound")
        try fileManager.copyItem(at: OutboundProcess.binaryURL, to: binary)
        for path in try [sandbox.root.path] + fileManager.subpathsOfDirectory(atPath: sandbox.root.path).map({ sandbox.root.appendingPathComponent($0).path }) {
            var isDirectory: ObjCBool = false
            guard fileManager.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
            // Folders open to all; job files keep root as owner, readable by all.
            XCTAssertEqual(chmod(path, isDirectory.boolValue || path == binary.path ? 0o777 : 0o644), 0, path)
        }
        var parent = sandbox.root.deletingLastPathComponent()
        while parent.path != "/" {
            var info = stat()
            if stat(parent.path, &info) == 0, info.st_mode & 0o001 == 0 { chmod(parent.path, info.st_mode | 0o001) }
            parent = parent.deletingLastPathComponent()
        }
        adjust()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = ["30", "/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", binary.path, "drain",
                             "--spool", sandbox.spool.path, "--config", sandbox.config.path]
        // Into files, not pipes: a process that floods one stream while the test reads the
        // other to its end would block both.
        let outPath = sandbox.root.appendingPathComponent("drain.stdout")
        let errPath = sandbox.root.appendingPathComponent("drain.stderr")
        XCTAssertTrue(fileManager.createFile(atPath: outPath.path, contents: nil))
        XCTAssertTrue(fileManager.createFile(atPath: errPath.path, contents: nil))
        let output = try FileHandle(forWritingTo: outPath)
        let errors = try FileHandle(forWritingTo: errPath)
        defer { try? output.close(); try? errors.close() }
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        process.waitUntilExit()
        let outText = String(decoding: try Data(contentsOf: outPath), as: UTF8.self)
        let errText = String(decoding: try Data(contentsOf: errPath), as: UTF8.self)
        return OutboundProcess.Result(status: process.terminationStatus, standardOutput: outText, standardError: String(errText.prefix(4000)))
    }
}
