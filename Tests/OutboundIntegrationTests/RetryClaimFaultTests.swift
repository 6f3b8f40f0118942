import Foundation
import OutboundTestSupport
import XCTest

/// A claim of a due retry out of deferred/ that keeps failing (a persistent EAGAIN on every
/// rename there) is tried again about once a second, not on every turn of the loop: the
/// drain waits out `--max-wait` without spinning, and every job stays in deferred/ with no
/// verdict. Before, the loop tried each such claim thousands of times a second.
final class RetryClaimFaultTests: IntegrationTestCase {
    func testARetryWhoseClaimKeepsFailingIsTriedAboutOnceASecond() throws {
        try makeSandbox(serverHandler: { _ in .respond(status: 503) }, settings: Self.quickRetrySettings)
        let names = (1...3).map { "retry-\($0).json" }
        try leaveDueInDeferred(names, path: "r")

        let deferred = sandbox.spool.appendingPathComponent("deferred")
        let faults = sandbox.root.appendingPathComponent("faults.log")
        let result = try drain(["--max-wait", "2"],
                               environment: FaultLibrary.failing("rename", call: 1, errno: "EAGAIN", persist: true,
                                                                 under: deferred, log: faults),
                               expect: 75)
        let injected = FaultLibrary.injected(log: faults)
        XCTAssertGreaterThanOrEqual(injected.count, names.count, "each due retry's claim was tried and failed")
        XCTAssertLessThanOrEqual(injected.count, names.count * 6, "about one try a second each over 2 s, not a spin")
        XCTAssertEqual(server.requestCount, names.count, "nothing more was sent")
        for name in names { assertJob(name, isIn: "deferred") }
        XCTAssertTrue(result.standardOutput.contains("still_deferred=3"), result.standardOutput)
        assertNoVerdict()
    }
}
