import Foundation
import OutboundTestSupport
import XCTest

/// Contract section 2: orphaned claims are put back; live processes' claims never touched.
final class RecoveryTests: IntegrationTestCase {
    /// A claim folder as a dead process leaves it: jobs and an unlocked `.lock`.
    private func makeOrphanClaim(_ folder: String, jobs: [String: [String: Any]]) throws -> URL {
        let area = sandbox.spool.appendingPathComponent("active").appendingPathComponent(folder)
        try FileManager.default.createDirectory(at: area, withIntermediateDirectories: true)
        try Data().write(to: area.appendingPathComponent(".lock"))
        for (name, job) in jobs {
            try JSONSerialization.data(withJSONObject: job).write(to: area.appendingPathComponent(name))
        }
        return area
    }

    func testOrphanedClaimsAreRecoveredAndDelivered() throws {
        try makeSandbox()
        let area = try makeOrphanClaim("deadhost-999999-abc", jobs: [
            "orphan-1.json": SpoolSandbox.job(url: "\(server.baseURL)/hooks/1"),
            "orphan-2.json": SpoolSandbox.job(url: "\(server.baseURL)/hooks/2"),
        ])
        let result = try drain()
        XCTAssertEqual(sandbox.jobs(in: "delivered"), ["orphan-1.json", "orphan-2.json"])
        XCTAssertEqual(sandbox.audit("recovered").count, 2)
        XCTAssertFalse(FileManager.default.fileExists(atPath: area.path), "the dead claim folder is removed")
        XCTAssertTrue(result.standardOutput.contains("recovered=2"), result.standardOutput)
    }

    func testLiveProcessClaimsAreNeverTouched() throws {
        try makeSandbox()
        let area = try makeOrphanClaim("livehost-1-def", jobs: ["mine.json": SpoolSandbox.job(url: "\(server.baseURL)/hooks/m")])
        // This test process holds the lock, as a live dispatcher would.
        let fd = open(area.appendingPathComponent(".lock").path, O_RDWR)
        XCTAssertGreaterThanOrEqual(fd, 0)
        XCTAssertEqual(flock(fd, LOCK_EX | LOCK_NB), 0)
        defer { close(fd) }
        try sandbox.drop("other.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/o"))
        try drain()
        XCTAssertTrue(FileManager.default.fileExists(atPath: area.appendingPathComponent("mine.json").path))
        XCTAssertEqual(sandbox.audit("recovered").count, 0)
        XCTAssertEqual(server.requests.map(\.target), ["/hooks/o"])
    }

    /// A claim folder another process is still building (`.new-…`): its `.lock` exists but
    /// is not locked yet. Recovery must leave it be, or the builder's own flock fails and it
    /// exits 73 (seen once in CI with three processes starting together).
    func testAClaimFolderStillBeingBuiltIsLeftToItsBuilder() throws {
        try makeSandbox()
        let building = try makeOrphanClaim(".new-otherhost-77-abc", jobs: [:])
        for bucket in ["0", "1", "f"] {
            try FileManager.default.createDirectory(at: building.appendingPathComponent(bucket), withIntermediateDirectories: false)
        }
        try sandbox.drop("one.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/1"))
        try drain()
        XCTAssertEqual(sandbox.jobs(in: "delivered"), ["one.json"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: building.appendingPathComponent(".lock").path),
                      "the builder's folder and lock are untouched")
        XCTAssertTrue(FileManager.default.fileExists(atPath: building.appendingPathComponent("f").path))
        // and its lock is still free for the builder to take
        let fd = open(building.appendingPathComponent(".lock").path, O_RDWR)
        XCTAssertGreaterThanOrEqual(fd, 0)
        XCTAssertEqual(flock(fd, LOCK_EX | LOCK_NB), 0)
        close(fd)
    }

    /// One left behind by a process killed while building it, a minute and more ago, is cleared.
    func testAnAbandonedHalfBuiltClaimFolderIsRemoved() throws {
        try makeSandbox()
        let building = try makeOrphanClaim(".new-deadhost-78-abc", jobs: [:])
        try FileManager.default.createDirectory(at: building.appendingPathComponent("0"), withIntermediateDirectories: false)
        var times = [timeval(tv_sec: time(nil) - 120, tv_usec: 0), timeval(tv_sec: time(nil) - 120, tv_usec: 0)]
        XCTAssertEqual(utimes(building.path, &times), 0)
        try drain()
        XCTAssertFalse(FileManager.default.fileExists(atPath: building.path), "the abandoned folder is removed")
        XCTAssertEqual(sandbox.jobs(in: "active"), [])
    }

    /// Temporary files a killed process left while writing a retry's state or a sidecar are
    /// removed at the next start once a minute old; younger ones may be a live writer's.
    func testTemporaryFilesAMinuteOldAreRemovedAtStart() throws {
        try makeSandbox()
        var stale: [URL] = []
        var young: [URL] = []
        for folder in [".state", ".state/lanes", "failed", "hold"] {
            let url = sandbox.spool.appendingPathComponent(folder)
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            let old = url.appendingPathComponent(".tmp-4242-1"), new = url.appendingPathComponent(".tmp-4242-2")
            try Data("{\"attempts\": 1".utf8).write(to: old)
            try Data("{\"attempts\": 1".utf8).write(to: new)
            var times = [timeval(tv_sec: time(nil) - 120, tv_usec: 0), timeval(tv_sec: time(nil) - 120, tv_usec: 0)]
            XCTAssertEqual(utimes(old.path, &times), 0)
            stale.append(old)
            young.append(new)
        }
        let other = sandbox.spool.appendingPathComponent(".state/.keep-me")
        try Data().write(to: other)
        var times = [timeval(tv_sec: time(nil) - 120, tv_usec: 0), timeval(tv_sec: time(nil) - 120, tv_usec: 0)]
        XCTAssertEqual(utimes(other.path, &times), 0)
        try sandbox.drop("one.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/1"))
        try drain()
        XCTAssertEqual(sandbox.jobs(in: "delivered"), ["one.json"])
        XCTAssertEqual(stale.filter { FileManager.default.fileExists(atPath: $0.path) }.map(\.path), [], "stale temporary files removed")
        XCTAssertEqual(young.filter { !FileManager.default.fileExists(atPath: $0.path) }.map(\.path), [], "young ones kept")
        XCTAssertTrue(FileManager.default.fileExists(atPath: other.path), "only temporary files are removed")
    }

    /// A job's state left behind by a kill between the job's move into its final folder and
    /// the state's removal is removed at the next start; a state whose job waits in deferred/,
    /// or that was saved for another file of the same name, stays.
    func testTheStateOfAJobAlreadyFiledIsRemovedAtStart() throws {
        try makeSandbox()
        let stateFolder = sandbox.spool.appendingPathComponent(".state")
        try FileManager.default.createDirectory(at: stateFolder, withIntermediateDirectories: true)
        func place(_ name: String, in folder: String) throws -> UInt64 {
            let url = sandbox.spool.appendingPathComponent(folder)
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            let job = url.appendingPathComponent(name)
            try JSONSerialization.data(withJSONObject: SpoolSandbox.job(url: "\(server.baseURL)/hooks/x")).write(to: job)
            return try XCTUnwrap((try FileManager.default.attributesOfItem(atPath: job.path))[.systemFileNumber] as? UInt64)
        }
        func saveState(_ name: String, inode: UInt64) throws {
            let text = "{\"attempts\":1,\"firstClaimedAt\":\"2026-12-06T10:00:00.000Z\",\"nextAttemptAt\":\"2099-12-06T10:00:01.000Z\",\"inode\":\(inode)}\n"
            try Data(text.utf8).write(to: stateFolder.appendingPathComponent(name))
        }
        try saveState("done.json", inode: try place("done.json", in: "delivered"))
        try saveState("gave-up.json", inode: try place("gave-up.json", in: "failed"))
        try saveState("waiting.json", inode: try place("waiting.json", in: "deferred"))
        try saveState("namesake.json", inode: try place("namesake.json", in: "delivered") + 1)
        // waiting.json is due in 2099: the drain ends with it still deferred (exit 75).
        try drain(["--max-wait", "0"], expect: 75)
        let left = try FileManager.default.contentsOfDirectory(atPath: stateFolder.path).filter { $0.hasSuffix(".json") }.sorted()
        XCTAssertEqual(left, ["namesake.json", "waiting.json"])
    }

    func testRunRecoversAClaimOrphanedWhileItRuns() throws {
        try makeSandbox()
        let running = try sandbox.startRun()
        defer { running.signal(SIGKILL); running.wait(timeout: 5) }
        XCTAssertTrue(SpoolSandbox.waitUntil { self.sandbox.audit("started").count == 1 })
        _ = try makeOrphanClaim("crashed-424242-aaa", jobs: ["late-orphan.json": SpoolSandbox.job(url: "\(server.baseURL)/hooks/l")])
        XCTAssertTrue(SpoolSandbox.waitUntil(timeout: 15) { self.sandbox.jobs(in: "delivered") == ["late-orphan.json"] },
                      "recovered within the periodic pass (at least every 10 s)")
        XCTAssertEqual(sandbox.audit("recovered", job: "late-orphan").count, 1)
    }

    func testKilledRunLeavesNothingLost() throws {
        let slow = FlagBox(true)
        try makeSandbox(serverHandler: { _ in slow.value ? .respondAfter(milliseconds: 3000, status: 204) : .respond(status: 204) })
        for index in 0..<5 {
            try sandbox.drop("k\(index).json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/\(index)"))
        }
        let running = try sandbox.startRun()
        XCTAssertTrue(server.waitForRequests(5, timeout: 10))
        running.signal(SIGKILL)
        running.wait(timeout: 5)
        XCTAssertEqual(sandbox.jobs(in: "active").count, 5, "the claims are still in active/")

        slow.value = false
        try drain()
        XCTAssertEqual(sandbox.jobs(in: "delivered").count, 5)
        XCTAssertEqual(sandbox.jobs(in: "active"), [])
        XCTAssertEqual(sandbox.audit("recovered").count, 5)
        for index in 0..<5 {
            XCTAssertGreaterThanOrEqual(server.requests.filter { $0.target == "/hooks/\(index)" }.count, 1)
        }
    }
}
