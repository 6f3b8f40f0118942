import Foundation
import OutboundTestSupport
import XCTest

/// Contract section 5, `maxClaimedBytes`: job bytes held in memory never exceed the budget,
/// and one job larger than the budget still goes, alone.
final class ByteBudgetTests: IntegrationTestCase {
    /// The process's peak resident set (VmHWM), in MiB, while it runs.
    private func peakResidentMiB(of pid: Int32) -> Double? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kib = Double(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
        return kib / 1024
    }

    private func bigJob(_ index: Int, megabytes: Int) -> [String: Any] {
        SpoolSandbox.job(url: "\(server.baseURL)/hooks/big-\(index)",
                         body: "{\"blob\":\"" + String(repeating: "x", count: megabytes << 20) + "\"}")
    }

    func testBigJobsToASlowReceiverStayWithinTheBudget() throws {
        // 30 jobs of 4 MiB, a receiver that takes 300 ms each, room for 8 transfers and a
        // claim window of 64: without the budget the process holds all 120 MiB at once.
        try makeSandbox(serverHandler: { _ in .respondAfter(milliseconds: 300, status: 204) },
                        settings: ["concurrency": 8, "perHostConcurrency": 8, "maxClaimedBytes": 16 << 20])
        for index in 0..<30 { try sandbox.drop("big-\(index).json", job: bigJob(index, megabytes: 4)) }
        let run = try sandbox.startRun()
        defer { run.signal(SIGKILL) }
        var peak = 0.0
        let done = SpoolSandbox.waitUntil(timeout: 60) {
            peak = max(peak, self.peakResidentMiB(of: run.pid) ?? 0)
            return self.sandbox.jobs(in: "delivered").count == 30
        }
        peak = max(peak, peakResidentMiB(of: run.pid) ?? 0)
        XCTAssertTrue(done, sandbox.auditText)
        XCTAssertEqual(server.requestCount, 30)
        // 16 MiB of jobs, the code and libcurl: well under 64 MiB. Without the budget it
        // peaks above 120 MiB.
        XCTAssertLessThan(peak, 64, "peak RSS \(peak) MiB")
        run.signal(SIGTERM)
        XCTAssertEqual(run.wait(timeout: 15), 0)
    }

    func testAJobLargerThanTheBudgetGoesAlone() throws {
        try makeSandbox(settings: ["maxClaimedBytes": 1 << 20])
        try sandbox.drop("huge.json", job: bigJob(0, megabytes: 3))
        for index in 1...5 { try sandbox.drop("small-\(index).json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/s\(index)")) }
        try drain()
        XCTAssertEqual(sandbox.jobs(in: "delivered").count, 6, sandbox.auditText)
        XCTAssertTrue(server.requests.contains { $0.body.count > 3 << 20 }, "the whole body went out")
    }
}
