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

    /// Runs a copy of the binary as nobody (setpriv), with the sandbox opened to all.
    private func drainAsNobody() throws -> OutboundProcess.Result {
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
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", binary.path, "drain",
                             "--spool", sandbox.spool.path, "--config", sandbox.config.path]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let outText = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let errText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return OutboundProcess.Result(status: process.terminationStatus, standardOutput: outText, standardError: errText)
    }
}
