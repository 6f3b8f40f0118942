import Foundation
import OutboundTestSupport
import XCTest

/// libcurl loads while a drain starts (`TransferEngine.startLoadingLibcurl`), beside the
/// intake's first listing. A host where it cannot be loaded gets a drain that stops before
/// sending anything: what it claimed goes back, the audit log gets its `stopped` line, no job
/// is given a verdict, and the exit status (69) and message name the library to install.
final class LibcurlLoadTests: IntegrationTestCase {
    func testADrainThatCannotLoadLibcurlSendsNothingAndKeepsEveryJobAndItsAttempts() throws {
        let failing = FlagBox(true)
        try makeSandbox(serverHandler: { _ in failing.value ? .respond(status: 503) : .respond(status: 204) },
                        settings: Self.quickRetrySettings)
        // A retry that is due when the next drain starts (claimed by the loop before its first
        // wait), beside a backlog the intake claims.
        try leaveDueInDeferred(["retrying.json"], path: "r")
        let backlog = (1...40).map { String(format: "new-%02d.json", $0) }
        for name in backlog { try sandbox.drop(name, job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/n")) }

        // The dynamic loader finds this file first and cannot load it.
        let brokenLibraries = sandbox.root.appendingPathComponent("broken-libraries")
        try FileManager.default.createDirectory(at: brokenLibraries, withIntermediateDirectories: true)
        try Data().write(to: brokenLibraries.appendingPathComponent("libcurl.so.4"))
        let result = try drain([], environment: ["LD_LIBRARY_PATH": brokenLibraries.path], expect: 69)
        XCTAssertTrue(result.standardError.contains("cannot load libcurl.so.4"), result.standardError)
        XCTAssertTrue(result.standardError.contains("apt-get install libcurl4"), result.standardError)
        XCTAssertEqual(server.requestCount, 1, "only the first drain's attempt went out")
        assertJob("retrying.json", isIn: "deferred")
        for name in backlog { assertJob(name, isIn: "incoming") }
        XCTAssertEqual(sandbox.audit("stopped").count, 2, "the broken drain closed the audit log: \(sandbox.auditText)")
        assertNoVerdict()

        // With libcurl back, everything goes, and the retry keeps its attempt count.
        failing.value = false
        try drain()
        XCTAssertEqual(assertAudit("delivered", job: "retrying").first?["attempt"] as? Int, 2)
        for name in backlog { assertJob(name, isIn: "delivered") }
        XCTAssertEqual(server.requestCount, 1 + 1 + backlog.count)
    }
}
