import Foundation
import OutboundTestSupport
import XCTest

/// Ordered lanes (contract 14) with the real binary against a receiver that records arrival
/// order. Job names are `e-SEQ-lLANE.json`; the receiver sees the lane in the URL and the
/// job's id in `Idempotency-Key`.
final class OrderedLaneTests: IntegrationTestCase {
    /// A receiver that answers after a random 0–2 ms, so jobs sent side by side would arrive
    /// in any order.
    static let jittery: @Sendable (RecordedRequest) -> ServerAction = { _ in
        usleep(UInt32.random(in: 0...2000))
        return .respond(status: 204)
    }

    static func name(_ sequence: Int, lane: Int) -> String { String(format: "e-%05d-l%02d", sequence, lane) }

    func laneJob(_ sequence: Int, lane: Int) -> (name: String, job: [String: Any]) {
        (Self.name(sequence, lane: lane) + ".json",
         SpoolSandbox.job(url: "\(server.baseURL)/hooks/lane-\(lane)", extra: ["orderingKey": "patient-\(lane)"]))
    }

    /// Drops the jobs of lane 0 with these sequence numbers, in this order.
    func dropLaneJobs(_ sequences: some Sequence<Int>) throws {
        for sequence in sequences {
            let (name, job) = laneJob(sequence, lane: 0)
            try sandbox.drop(name, job: job)
        }
    }

    /// Ids as they arrived, per lane (by URL), in arrival order.
    func arrivals() -> [String: [String]] {
        var lanes: [String: [String]] = [:]
        for request in server.requests where request.target.contains("/lane-") {
            lanes[request.target, default: []].append(request.header("Idempotency-Key") ?? "?")
        }
        return lanes
    }

    /// Every lane's arrivals in strictly increasing name order, each job once. With
    /// `allowingRepeats`, a job may arrive twice: a retried head (503, then again), or a
    /// killed process's jobs that were sent but not yet filed, sent again by the process that
    /// takes its lanes over (the lane repeats its tail). Then both the first and the last
    /// arrival of each job must be in name order.
    func assertInOrder(_ lanes: [String: [String]], allowingRepeats: Bool = false, file: StaticString = #filePath, line: UInt = #line) {
        for (lane, ids) in lanes {
            guard allowingRepeats else {
                XCTAssertEqual(ids, ids.sorted(), "\(lane) out of order", file: file, line: line)
                XCTAssertEqual(Set(ids).count, ids.count, "\(lane) has a job twice: \(ids)", file: file, line: line)
                continue
            }
            var firsts: [String] = []
            for id in ids where !firsts.contains(id) { firsts.append(id) }
            var lasts: [String] = []
            for id in ids.reversed() where !lasts.contains(id) { lasts.insert(id, at: 0) }
            XCTAssertEqual(firsts, firsts.sorted(), "\(lane): first sendings out of order: \(ids)", file: file, line: line)
            XCTAssertEqual(lasts, lasts.sorted(), "\(lane): last sendings out of order: \(ids)", file: file, line: line)
            XCTAssertLessThanOrEqual(ids.count, 2 * firsts.count, "\(lane): more than one resend: \(ids)", file: file, line: line)
            XCTAssertTrue(Dictionary(grouping: ids, by: { $0 }).values.allSatisfy { $0.count <= 2 },
                          "\(lane): a job sent more than twice: \(ids)", file: file, line: line)
        }
    }

    func testAThousandJobsInFiftyLanesWrittenInRandomOrderArriveInOrderPerLane() throws {
        try makeSandbox(serverHandler: Self.jittery)
        var jobs = (0..<1000).map { laneJob($0, lane: $0 % 50) }
        jobs.shuffle()
        for (name, job) in jobs { try sandbox.drop(name, job: job) }
        try drain()
        XCTAssertEqual(sandbox.jobs(in: "delivered").count, 1000)
        let lanes = arrivals()
        XCTAssertEqual(lanes.count, 50)
        XCTAssertTrue(lanes.values.allSatisfy { $0.count == 20 }, "each job once")
        assertInOrder(lanes)
        XCTAssertFalse(FileManager.default.fileExists(atPath: sandbox.spool.appendingPathComponent(".state/lanes").path),
                       "a clean end leaves nothing of the lanes in .state/")
    }

    func testA503AtALanesHeadDelaysOnlyThatLane() throws {
        let firstTry = NSLock()
        nonisolated(unsafe) var refused = false
        try makeSandbox(serverHandler: { request in
            if request.header("Idempotency-Key") == Self.name(0, lane: 0) {
                firstTry.lock()
                defer { firstTry.unlock() }
                if !refused {
                    refused = true
                    return .respond(status: 503, headers: [HTTPHeaderField(name: "Retry-After", value: "2")])
                }
            }
            return .respond(status: 204)
        })
        for sequence in 0..<100 {
            let (name, job) = laneJob(sequence, lane: sequence % 10)
            try sandbox.drop(name, job: job)
        }
        for index in 0..<20 { try sandbox.drop("free-\(index).json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/free")) }
        try drain()
        XCTAssertEqual(sandbox.jobs(in: "delivered").count, 120)
        let requests = server.requests
        let retryIndex = try XCTUnwrap(requests.lastIndex { $0.header("Idempotency-Key") == Self.name(0, lane: 0) })
        let before = requests[..<retryIndex]
        XCTAssertEqual(before.filter { $0.target.hasSuffix("/free") }.count, 20, "jobs without orderingKey never wait")
        XCTAssertEqual(before.filter { !$0.target.hasSuffix("/lane-0") && !$0.target.hasSuffix("/free") }.count, 90,
                       "every other lane finished while lane 0 waited for its retry")
        XCTAssertEqual(before.filter { $0.target.hasSuffix("/lane-0") }.count, 1, "lane 0 sent nothing behind its retrying head")
        XCTAssertEqual(arrivals()["/hooks/lane-0"]?.count, 11)
        assertInOrder(arrivals(), allowingRepeats: true)
    }

    func testThreeRunProcessesOnOneSpoolKeepEveryLanesOrder() throws {
        // Slower and more uneven answers than `jittery`: two processes sending one lane's jobs
        // side by side would be caught.
        try makeSandbox(serverHandler: { _ in
            usleep(UInt32.random(in: 0...6000))
            return .respond(status: 204)
        }, settings: ["concurrency": 16])
        let runners = try (0..<3).map { _ in try sandbox.startRun() }
        defer { for runner in runners { runner.signal(SIGKILL); runner.wait(timeout: 5) } }
        XCTAssertTrue(SpoolSandbox.waitUntil { self.sandbox.audit("started").count == 3 })
        // Written in tmp/ first, then renamed into incoming/ in event order in one burst, so
        // each lane has several jobs in incoming/ at once for the three processes to race for.
        var names: [String] = []
        for sequence in 0..<600 {
            let (name, job) = laneJob(sequence, lane: sequence % 30)
            try stage(name, job: job)
            names.append(name)
            if sequence % 3 == 0 {
                try stage("free-\(sequence).json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/free"))
                names.append("free-\(sequence).json")
            }
        }
        for name in names { try publish(name) }
        XCTAssertTrue(SpoolSandbox.waitUntil(timeout: 60) { self.sandbox.jobs(in: "delivered").count == 800 },
                      "delivered \(sandbox.jobs(in: "delivered").count) of 800")
        for runner in runners { runner.signal(SIGTERM) }
        for runner in runners { XCTAssertEqual(runner.wait(timeout: 30), 0, runner.standardError) }
        let lanes = arrivals()
        XCTAssertEqual(lanes.values.map(\.count).reduce(0, +), 600, "each lane job once")
        assertInOrder(lanes)
    }

    func testAKilledLaneOwnersLanesAreFinishedInOrderByTheOthers() throws {
        try makeSandbox(serverHandler: { _ in
            usleep(5_000)
            return .respond(status: 204)
        }, settings: ["concurrency": 8])
        let runners = try (0..<3).map { _ in try sandbox.startRun() }
        defer { for runner in runners { runner.signal(SIGKILL); runner.wait(timeout: 5) } }
        XCTAssertTrue(SpoolSandbox.waitUntil { self.sandbox.audit("started").count == 3 })
        for sequence in 0..<300 {
            let (name, job) = laneJob(sequence, lane: sequence % 10)
            try sandbox.drop(name, job: job)
        }
        XCTAssertTrue(SpoolSandbox.waitUntil(timeout: 30) { self.server.requestCount >= 60 })
        // The owner is the process whose claim folder holds the lane jobs (its name has the pid).
        let active = sandbox.spool.appendingPathComponent("active")
        var owner: OutboundProcess?
        XCTAssertTrue(SpoolSandbox.waitUntil {
            owner = runners.first { runner in
                let areas = (try? FileManager.default.contentsOfDirectory(atPath: active.path)) ?? []
                return areas.contains { $0.contains("-\(runner.pid)-") && self.holdsJobs(active.appendingPathComponent($0)) }
            }
            return owner != nil
        }, "a process holds lane jobs")
        owner?.signal(SIGKILL)
        owner?.wait(timeout: 5)
        XCTAssertTrue(SpoolSandbox.waitUntil(timeout: 40) { self.sandbox.jobs(in: "delivered").count == 300 },
                      "delivered \(sandbox.jobs(in: "delivered").count) of 300")
        let lanes = arrivals()
        XCTAssertEqual(Set(lanes.values.flatMap { $0 }).count, 300)
        assertInOrder(lanes, allowingRepeats: true)
        XCTAssertGreaterThan(sandbox.audit("recovered").count, 0, "the killed owner's claims were put back")
    }

    func testARetryingHeadKeepsHoldingItsLaneAfterItsOwnerIsKilled() throws {
        let gate = NSLock()
        nonisolated(unsafe) var answered = 0
        try makeSandbox(serverHandler: { request in
            gate.lock()
            defer { gate.unlock() }
            answered += 1
            return answered == 1 ? .respond(status: 503) : .respond(status: 204)
        }, settings: ["retry": ["maxAttempts": 5, "baseDelayMs": 2500, "maxDelayMs": 2500, "maxAgeSeconds": 3600]])
        let owner = try sandbox.startRun()
        defer { owner.signal(SIGKILL); owner.wait(timeout: 5) }
        try dropLaneJobs([1, 2])
        let head = Self.name(1, lane: 0)
        XCTAssertTrue(SpoolSandbox.waitUntil { self.sandbox.jobs(in: "deferred") == ["\(head).json"] }, "the head waits for its retry")
        XCTAssertTrue(SpoolSandbox.waitUntil { self.sandbox.jobs(in: "incoming") == [Self.name(2, lane: 0) + ".json"] },
                      "the next job is parked in incoming/ until the head is due")
        owner.signal(SIGKILL)
        owner.wait(timeout: 5)
        // The taker finds job 2 put back in incoming/ and the head in deferred/: the head goes first.
        try drain()
        XCTAssertEqual(arrivals()["/hooks/lane-0"], [head, head, Self.name(2, lane: 0)])
    }

    /// A head answered `503` with `Retry-After: 0` is due again before its move into
    /// deferred/ (which waits for its `deferred` line to be on disk) is done: its claim then
    /// finds nothing in deferred/ yet, and that must not count as the head having left.
    func testAHeadDueAgainAtOnceKeepsItsLane() throws {
        try makeSandbox(serverHandler: Responders.failThenSucceed(failures: 1, retryAfter: "0"),
                        settings: ["retry": ["maxAttempts": 5, "baseDelayMs": 1, "maxDelayMs": 1, "maxAgeSeconds": 3600]])
        try dropLaneJobs(0..<4)
        try drain()
        XCTAssertEqual(sandbox.jobs(in: "delivered").count, 4)
        XCTAssertEqual(arrivals()["/hooks/lane-0"], [0, 0, 1, 1, 2, 2, 3, 3].map { Self.name($0, lane: 0) })
        for sequence in 0..<4 {
            XCTAssertNil(assertAudit("delivered", job: Self.name(sequence, lane: 0)).first?["message"], "none sent late")
        }
    }

    /// The same when deferred/ holds a namesake of the head (another job, waiting an hour), so
    /// the head's retry is filed as `NAME~1.json`: due at once, it is still in the claim area
    /// under its old name, and that too must not count as the head having left.
    func testAHeadDueAgainAtOnceUnderANewNameKeepsItsLane() throws {
        try makeSandbox(serverHandler: Responders.failThenSucceed(failures: 1, retryAfter: "0"),
                        settings: ["retry": ["maxAttempts": 5, "baseDelayMs": 1, "maxDelayMs": 1, "maxAgeSeconds": 7200]])
        let head = Self.name(0, lane: 0)
        let namesake = sandbox.spool.appendingPathComponent("deferred/\(head).json")
        try FileManager.default.createDirectory(at: namesake.deletingLastPathComponent(), withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: SpoolSandbox.job(url: "\(server.baseURL)/hooks/namesake")).write(to: namesake)
        let inode = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: namesake.path)[.systemFileNumber] as? NSNumber)
        let format = ISO8601DateFormatter()
        format.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let state = ["attempts": 1, "firstClaimedAt": format.string(from: Date()), "inode": inode,
                     "nextAttemptAt": format.string(from: Date().addingTimeInterval(3600))] as [String: Any]
        let stateFolder = sandbox.spool.appendingPathComponent(".state")
        try FileManager.default.createDirectory(at: stateFolder, withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: state).write(to: stateFolder.appendingPathComponent("\(head).json"))
        try dropLaneJobs(0..<4)
        try drain(["--max-wait", "3"], expect: 75)
        XCTAssertEqual(sandbox.jobs(in: "delivered").sorted(), ["\(head)~1.json"] + (1..<4).map { Self.name($0, lane: 0) + ".json" })
        XCTAssertEqual(sandbox.jobs(in: "deferred"), ["\(head).json"], "the namesake still waits")
        XCTAssertEqual(arrivals()["/hooks/lane-0"], [0, 0, 1, 1, 2, 2, 3, 3].map { Self.name($0, lane: 0) })
        XCTAssertTrue(server.requests.allSatisfy { !$0.target.contains("namesake") }, "the namesake is not sent")
    }

    func testJobsWithoutOrderingKeyAreNotHeldUpByLanesWaitingForRetries() throws {
        // A claim window of 16 (concurrency 2): twenty lanes whose heads keep getting 503 have
        // sixty jobs behind them, enough to fill it many times if they waited in memory.
        try makeSandbox(serverHandler: { request in
            request.target.hasSuffix("/down") ? .respond(status: 503) : .respond(status: 204)
        }, settings: ["concurrency": 2, "perHostConcurrency": 2,
                      "retry": ["maxAttempts": 100, "baseDelayMs": 1000, "maxDelayMs": 1000, "maxAgeSeconds": 3600]])
        for sequence in 0..<80 {
            try sandbox.drop(Self.name(sequence, lane: sequence % 20) + ".json",
                             job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/down", extra: ["orderingKey": "patient-\(sequence % 20)"]))
        }
        let runner = try sandbox.startRun()
        defer { runner.signal(SIGKILL); runner.wait(timeout: 5) }
        // Every lane's head has been set aside once (its `deferred` line is in the log): from
        // then on each lane waits for a retry. Not "twenty jobs in deferred/ at once": a head
        // comes due again 0.8 to 1 s after its attempt and leaves deferred/ for its retry, so
        // when setting twenty aside two at a time takes longer than that (a loaded machine, a
        // slow disk), the folder never holds all twenty together.
        XCTAssertTrue(SpoolSandbox.waitUntil(timeout: 20) {
            Set(self.sandbox.audit("deferred").compactMap { $0["job"] as? String }) == Set((0..<20).map { Self.name($0, lane: $0) })
        }, "every lane's head waits for a retry: \(sandbox.jobs(in: "deferred"))")
        for index in 0..<40 { try sandbox.drop("free-\(index).json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/free")) }
        XCTAssertTrue(SpoolSandbox.waitUntil(timeout: 15) { self.sandbox.jobs(in: "delivered").count == 40 },
                      "delivered \(sandbox.jobs(in: "delivered").count) of 40 jobs without orderingKey")
        XCTAssertEqual(server.requests.filter { $0.target.hasSuffix("/down") }.map { $0.header("Idempotency-Key") ?? "" }
                        .filter { Int($0.dropFirst(2).prefix(5))! >= 20 }, [], "no lane sent past its retrying head")
        runner.signal(SIGTERM)
        XCTAssertEqual(runner.wait(timeout: 30), 0, runner.standardError)
    }

    private func stage(_ name: String, job: [String: Any]) throws {
        try JSONSerialization.data(withJSONObject: job).write(to: sandbox.spool.appendingPathComponent("tmp/\(name)"))
    }

    private func publish(_ name: String) throws {
        try FileManager.default.moveItem(at: sandbox.spool.appendingPathComponent("tmp/\(name)"),
                                         to: sandbox.spool.appendingPathComponent("incoming/\(name)"))
    }

    private func holdsJobs(_ area: URL) -> Bool {
        let buckets = (try? FileManager.default.contentsOfDirectory(atPath: area.path)) ?? []
        return buckets.contains { bucket in
            ((try? FileManager.default.contentsOfDirectory(atPath: area.appendingPathComponent(bucket).path)) ?? []).contains { $0.hasSuffix(".json") }
        }
    }

    /// A sandbox whose receiver answers the job `id` with a 404 the first time, and every
    /// other request with a 204.
    func makeSandbox(failingOnce id: String) throws {
        let gate = NSLock()
        nonisolated(unsafe) var failedOnce = false
        try makeSandbox(serverHandler: { request in
            if request.header("Idempotency-Key") == id {
                gate.lock()
                defer { gate.unlock() }
                if !failedOnce {
                    failedOnce = true
                    return .respond(status: 404)
                }
            }
            return .respond(status: 204)
        })
    }

    func testABlockedLaneHoldsItsLaterJobsThenRequeueAndReleaseCompleteItInOrder() throws {
        try makeSandbox(failingOnce: Self.name(2, lane: 0))
        try dropLaneJobs(0..<6)
        try sandbox.drop("other.json", job: laneJob(9, lane: 1).job)
        try drain()
        let atFault = Self.name(2, lane: 0) + ".json"
        assertJob(atFault, isIn: "failed")
        XCTAssertEqual(sandbox.jobs(in: "hold"), (3..<6).map { Self.name($0, lane: 0) + ".json" })
        assertJob("other.json", isIn: "delivered")
        for sequence in 3..<6 {
            let line = try XCTUnwrap(assertAudit("lane_blocked", job: Self.name(sequence, lane: 0)).first)
            XCTAssertEqual(line["blockedBy"] as? String, atFault)
        }
        let status = try OutboundProcess.run(["status", "--spool", sandbox.spool.path, "--config", sandbox.config.path])
        XCTAssertTrue(status.standardOutput.contains("lane patient-0 of client"), status.standardOutput)
        XCTAssertTrue(status.standardOutput.contains("BLOCKED by \(atFault)"), status.standardOutput)

        // Requeue and release by plain renames, as an operator without the commands would.
        let spool = sandbox.spool
        try FileManager.default.removeItem(at: spool.appendingPathComponent("failed/\(atFault).reason"))
        try FileManager.default.moveItem(at: spool.appendingPathComponent("failed/\(atFault)"), to: spool.appendingPathComponent("incoming/\(atFault)"))
        for name in sandbox.jobs(in: "hold") {
            try FileManager.default.moveItem(at: spool.appendingPathComponent("hold/\(name)"), to: spool.appendingPathComponent("incoming/\(name)"))
        }
        try drain()
        XCTAssertEqual(sandbox.jobs(in: "delivered").count, 7)
        XCTAssertEqual(arrivals()["/hooks/lane-0"], [0, 1, 2, 2, 3, 4, 5].map { Self.name($0, lane: 0) })
        let after = try OutboundProcess.run(["status", "--spool", sandbox.spool.path, "--config", sandbox.config.path])
        XCTAssertFalse(after.standardOutput.contains("BLOCKED"), after.standardOutput)
    }

    /// A job at fault filed under a clash name, because an older job of its name is already
    /// in failed/: its lane's marker and every `lane_blocked` line name the file it got, so
    /// the operator requeues that one, and requeueing it (not its namesake) resumes the lane.
    func testAJobAtFaultFiledUnderAClashNameIsTheOneItsLaneWaitsFor() throws {
        let atFault = Self.name(2, lane: 0)
        try makeSandbox(failingOnce: atFault)
        let spool = sandbox.spool
        let failed = spool.appendingPathComponent("failed")
        try FileManager.default.createDirectory(at: failed, withIntermediateDirectories: true)
        let namesake = try JSONSerialization.data(withJSONObject: SpoolSandbox.job(url: "\(server.baseURL)/hooks/older"))
        try namesake.write(to: failed.appendingPathComponent(atFault + ".json"))
        try dropLaneJobs(0..<6)
        try drain()

        let filedAs = atFault + "~1.json"
        assertJob(filedAs, isIn: "failed")
        XCTAssertEqual(try Data(contentsOf: failed.appendingPathComponent(atFault + ".json")), namesake, "the namesake is untouched")
        XCTAssertEqual(sandbox.jobs(in: "hold"), (3..<6).map { Self.name($0, lane: 0) + ".json" })
        let own = try XCTUnwrap(assertAudit("lane_blocked", job: atFault).first)
        XCTAssertEqual(own["blockedBy"] as? String, filedAs)
        XCTAssertEqual(own["file"] as? String, filedAs)
        for sequence in 3..<6 {
            let line = try XCTUnwrap(assertAudit("lane_blocked", job: Self.name(sequence, lane: 0)).first)
            XCTAssertEqual(line["blockedBy"] as? String, filedAs)
            XCTAssertTrue((line["message"] as? String ?? "").contains("blocked by \(filedAs),"), "\(line)")
        }
        let status = try OutboundProcess.run(["status", "--spool", spool.path, "--config", sandbox.config.path])
        XCTAssertTrue(status.standardOutput.contains("BLOCKED by \(filedAs)"), status.standardOutput)

        // The job at fault requeued and the held ones released, by plain renames: the lane
        // resumes with it and goes on in order.
        try FileManager.default.removeItem(at: failed.appendingPathComponent(filedAs + ".reason"))
        try FileManager.default.moveItem(at: failed.appendingPathComponent(filedAs), to: spool.appendingPathComponent("incoming/\(filedAs)"))
        for name in sandbox.jobs(in: "hold") {
            try FileManager.default.moveItem(at: spool.appendingPathComponent("hold/\(name)"), to: spool.appendingPathComponent("incoming/\(name)"))
        }
        try drain()
        XCTAssertEqual(sandbox.jobs(in: "delivered").count, 6)
        XCTAssertEqual(sandbox.jobs(in: "failed"), [atFault + ".json"], "only the namesake is left in failed/")
        XCTAssertEqual(arrivals()["/hooks/lane-0"], [0, 1, 2, 2, 3, 4, 5].map { Self.name($0, lane: 0) })
        let after = try OutboundProcess.run(["status", "--spool", spool.path, "--config", sandbox.config.path])
        XCTAssertFalse(after.standardOutput.contains("BLOCKED"), after.standardOutput)
    }

    /// Contract 2 and 14 together: a lane job that cannot be read for a moment (one EIO) goes
    /// back to incoming/ without a verdict, and the lane's later jobs wait for it instead of
    /// going ahead of it.
    func testALaneJobThatCannotBeReadForAMomentKeepsItsPlace() throws {
        try makeSandbox(serverHandler: Self.jittery)
        try dropLaneJobs(0..<6)
        // Jobs are read in name order, one read each: the second read is the second job's.
        let injected = try drainInjecting("read", call: 2, errno: "EIO", under: "active")
        XCTAssertEqual(injected.count, 1, "the fault was injected")
        let faulted = Self.name(1, lane: 0) + ".json"
        XCTAssertTrue(injected.first?.hasSuffix("/" + faulted) ?? false, "on the second job's read: \(injected)")
        XCTAssertEqual(sandbox.audit("spool_error").compactMap { $0["job"] as? String }, [Self.name(1, lane: 0)])
        XCTAssertEqual(sandbox.jobs(in: "delivered").count, 6)
        XCTAssertEqual(arrivals()["/hooks/lane-0"], (0..<6).map { Self.name($0, lane: 0) })
        for sequence in 0..<6 {
            XCTAssertNil(assertAudit("delivered", job: Self.name(sequence, lane: 0)).first?["message"], "none sent late")
        }
    }

    /// A lane job named after a file that cannot be decoded yet (young: it may still be being
    /// written) goes back to incoming/ to wait for it. When that move fails (EIO), the job
    /// stays claimed and waits instead of going ahead: the earlier file is settled first
    /// (here: corrupt, once a second old), then the lane goes on.
    func testALaneJobThatCannotBeMovedBackToWaitStillWaitsForTheEarlierFile() throws {
        try makeSandbox(serverHandler: Self.jittery)
        let first = Self.name(0, lane: 0)
        let written = try sandbox.drop(first + ".json", bytes: Data("{\"clientId\":".utf8))
        // Young for two seconds, however slowly the drain starts.
        let modified = Date().addingTimeInterval(1)
        try FileManager.default.setAttributes([.modificationDate: modified], ofItemAtPath: written.path)
        try dropLaneJobs(1..<4)
        // Renames out of the claim folder: the young file's put-backs first, then job 1's move
        // back, twice (the second time, no byte of the budget is released: tried again on time).
        let injected = try drainInjecting("rename", call: 3, times: 2, errno: "EIO", under: "active")
        XCTAssertEqual(injected.count, 2, "the faults were injected")
        XCTAssertTrue(injected.allSatisfy { $0.hasSuffix("/" + Self.name(1, lane: 0) + ".json") }, "on job 1's move back: \(injected)")
        assertJob(first + ".json", isIn: "corrupt")
        XCTAssertEqual(arrivals()["/hooks/lane-0"], (1..<4).map { Self.name($0, lane: 0) })
        // The earlier file is settled (read again, corrupt) a second after it was written; job 1
        // is not accepted before.
        let accepted = try XCTUnwrap(sandbox.audit("accepted", job: Self.name(1, lane: 0)).first?["ts"] as? String)
        let format = ISO8601DateFormatter()
        format.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let acceptedAt = try XCTUnwrap(format.date(from: accepted))
        XCTAssertGreaterThanOrEqual(acceptedAt.timeIntervalSince(modified), 0.99, "job 1 waited for the earlier file")
    }

    /// A listing of incoming/ cut short by a failing readdir holds some names in hash order,
    /// which may be a lane's later jobs without its earlier ones: none of them is claimed,
    /// and the folder is listed again.
    func testAListingCutShortSendsNoLaneJobAheadOfAnEarlierOne() throws {
        try makeSandbox(serverHandler: Self.jittery)
        try dropLaneJobs(0..<8)
        // The listing's third readdir call fails: "." and ".." may come first, so it holds
        // at most a job name or two (in the folder's hash order) when it stops.
        XCTAssertEqual(try drainInjecting("readdir", call: 3, errno: "EIO", under: "incoming").count, 1, "the fault was injected")
        XCTAssertEqual(sandbox.audit("spool_error").first?["message"] as? String, "incoming/ could not be listed; listing it again")
        XCTAssertEqual(arrivals()["/hooks/lane-0"], (0..<8).map { Self.name($0, lane: 0) })
    }

    /// A `run` that owns the lanes, then stopped (SIGSTOP) so that it claims nothing, and a
    /// second process (`command`: `run` or `drain`), with `environment` added, that does not
    /// own them, started once `beforeStart` has run; `fault.c` traces the second one's renames
    /// to `renames.trace`. Both are killed when the test ends.
    func startBesideAStoppedLaneOwner(_ command: String = "run", environment: [String: String],
                                      beforeStart: () throws -> Void = {}) throws -> (owner: OutboundProcess, other: OutboundProcess, trace: URL) {
        let owner = try sandbox.startRun()
        addTeardownBlock {
            owner.signal(SIGCONT)
            owner.signal(SIGKILL)
            _ = owner.wait()
        }
        let lock = sandbox.spool.appendingPathComponent(".state/lanes/owner.lock").path
        XCTAssertTrue(SpoolSandbox.waitUntil { FileManager.default.fileExists(atPath: lock) }, "the first process owns the lanes")
        owner.signal(SIGSTOP)
        try beforeStart()
        let trace = sandbox.root.appendingPathComponent("renames.trace")
        var environment = environment
        environment["LD_PRELOAD"] = try FaultLibrary.path()
        environment["FAULT_TRACE"] = trace.path
        let other = try OutboundProcess([command, "--spool", sandbox.spool.path, "--config", sandbox.config.path], environment: environment)
        addTeardownBlock {
            other.signal(SIGKILL)
            _ = other.wait()
        }
        return (owner, other, trace)
    }

    /// The renames of `name` in `trace`.
    func renames(of name: String, in trace: URL) -> [String] {
        ((try? String(contentsOf: trace, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init).filter {
            $0.split(separator: " ").dropFirst().first.map(String.init) == name
        }
    }

    /// A process that does not own the lanes and cannot read a file in incoming/ in place
    /// (EIO) leaves it there, since it may be a lane job, instead of claiming it to read it:
    /// held in its claim folder, even for a moment, the job would be out of the owner's
    /// sight while the owner sends a later job of its lane. The owner is stopped here, so
    /// the other process sees the file first.
    func testAProcessThatDoesNotOwnTheLanesLeavesAFileItCannotReadInIncoming() throws {
        try makeSandbox()
        let name = Self.name(0, lane: 0) + ".json"
        let faults = sandbox.root.appendingPathComponent("faults.log")
        let (owner, other, trace) = try startBesideAStoppedLaneOwner(
            environment: FaultLibrary.failing("read", call: 1, errno: "EIO", under: sandbox.spool.appendingPathComponent("incoming"), log: faults))
        try dropLaneJobs([0])
        XCTAssertTrue(SpoolSandbox.waitUntil { !FaultLibrary.injected(log: faults).isEmpty }, "the read failed: \(other.standardError)")
        XCTAssertTrue(FaultLibrary.injected(log: faults).first?.hasSuffix("/incoming/" + name) ?? false, "\(FaultLibrary.injected(log: faults))")
        // Read again a second later, in place: a lane job, left for the owner.
        sleep(2)
        other.signal(SIGTERM)
        XCTAssertEqual(other.wait(), 0, other.standardError)
        XCTAssertEqual(renames(of: name, in: trace), [], "never claimed by the process that does not own the lanes")
        XCTAssertEqual(sandbox.audit("spool_error").first?["message"] as? String, "left in incoming/ to be read again")
        XCTAssertEqual(sandbox.jobs(in: "incoming"), [name])
        owner.signal(SIGCONT)
        XCTAssertTrue(SpoolSandbox.waitUntil { self.sandbox.jobs(in: "delivered") == [name] }, "the owner sends it")
    }

    /// A drain that does not own the lanes, whose first three reads of `name` in incoming/
    /// fail (EIO, a second apart: then it counts as unclaimable, and a drain may end on it
    /// with exit 74). The fourth read, five seconds after the third (about 7 s in), succeeds.
    /// An unordered job the receiver holds for 10 s keeps the drain going past it, with room
    /// for a slow machine; `afterThirdFailure`
    /// runs once the three faults are in. Returns the owner (stopped) and the drain, once
    /// the held job is delivered.
    private func drainPastThreeFailedReads(of name: String, afterThirdFailure: () throws -> Void = {}) throws -> (owner: OutboundProcess, drain: OutboundProcess) {
        try makeSandbox(serverHandler: { $0.path == "/hooks/slow" ? .respondAfter(milliseconds: 10_000, status: 204) : .respond(status: 204) },
                        settings: ["timeoutMs": 20_000])
        let faults = sandbox.root.appendingPathComponent("faults.log")
        let (owner, drain, _) = try startBesideAStoppedLaneOwner(
            "drain",
            environment: FaultLibrary.failing("read", call: 1, errno: "EIO", times: 3,
                                              under: sandbox.spool.appendingPathComponent("incoming/" + name), log: faults)) {
            try dropLaneJobs([0])
            try sandbox.drop("slow.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/slow"))
        }
        XCTAssertTrue(SpoolSandbox.waitUntil(timeout: 10) { FaultLibrary.injected(log: faults).count == 3 }, drain.standardError)
        try afterThirdFailure()
        XCTAssertTrue(SpoolSandbox.waitUntil(timeout: 15) { self.sandbox.jobs(in: "delivered") == ["slow.json"] },
                      "\(drain.standardError) \(sandbox.auditText)")
        return (owner, drain)
    }

    /// Read at last and found to be a lane job, a file that could not be read three times
    /// is the owner's to send, and unclaimable no longer: the drain that does not own the
    /// lanes waits for the owner instead of ending with "could not be moved out of incoming/".
    func testALaneJobReadAtLastAfterFailedReadsIsNoLongerUnclaimable() throws {
        let name = Self.name(0, lane: 0) + ".json"
        let (owner, drain) = try drainPastThreeFailedReads(of: name)
        sleep(1)
        XCTAssertTrue(drain.isRunning, "the drain waits for the lane owner: \(drain.standardError)")
        XCTAssertEqual(sandbox.jobs(in: "incoming"), [name])
        owner.signal(SIGCONT)
        XCTAssertEqual(drain.wait(timeout: 20), 0, drain.standardError)
        XCTAssertTrue(SpoolSandbox.waitUntil { self.sandbox.jobs(in: "delivered").contains(name) }, "the owner sends it")
    }

    /// The same when the file read at last does not decode yet and is young (rewritten after
    /// the third failure, its mtime 10 s on, so it is still young when the held job is
    /// answered): the drain waits until it is a second old and files it in corrupt/, instead
    /// of ending on it as unclaimable.
    func testAYoungFileReadAtLastAfterFailedReadsIsNoLongerUnclaimable() throws {
        let name = Self.name(0, lane: 0) + ".json"
        let (owner, drain) = try drainPastThreeFailedReads(of: name) {
            let file = sandbox.spool.appendingPathComponent("incoming/" + name)
            try Data("{\"clientId\":".utf8).write(to: file)
            try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(10)], ofItemAtPath: file.path)
        }
        usleep(300_000)
        XCTAssertTrue(drain.isRunning, "the drain waits for the young file: \(drain.standardError)")
        XCTAssertEqual(drain.wait(timeout: 20), 0, drain.standardError)
        XCTAssertEqual(sandbox.jobs(in: "corrupt"), [name])
        owner.signal(SIGCONT)
    }

    /// The same for a file that does not decode yet and is younger than a second (it may
    /// still be being written, and be a lane job once it is).
    func testAProcessThatDoesNotOwnTheLanesLeavesAYoungFileInIncoming() throws {
        try makeSandbox()
        let name = "young.json"
        let (owner, other, trace) = try startBesideAStoppedLaneOwner(environment: [:])
        try sandbox.drop(name, bytes: Data("{\"clientId\":".utf8), age: -1)
        // Young for two seconds; then it is not a job, and the other process files it.
        XCTAssertTrue(SpoolSandbox.waitUntil { self.sandbox.jobs(in: "corrupt") == [name] }, other.standardError)
        XCTAssertEqual(renames(of: name, in: trace).count, 2, "claimed once, when old enough, and filed: \(renames(of: name, in: trace))")
        XCTAssertEqual(renames(of: name, in: trace).last?.hasSuffix(" corrupt"), true)
        owner.signal(SIGCONT)
    }

    /// A lane's earlier job that arrives while later ones already wait behind the head, and
    /// cannot be read yet (here: still being written), holds them: when the head is
    /// delivered, the next job does not go while that file is unread.
    func testAnEarlierLaneJobStillBeingWrittenHoldsLaterOnesAlreadyWaiting() throws {
        let head = Self.name(0, lane: 0)
        try makeSandbox(serverHandler: { request in
            if request.header("Idempotency-Key") == head { usleep(1_500_000) }
            return .respond(status: 204)
        })
        try dropLaneJobs([0, 2, 3])
        // `run`: inotify tells it of the late file at once (a drain lists incoming/ again later).
        let run = try sandbox.startRun()
        defer {
            run.signal(SIGTERM)
            _ = run.wait()
        }
        XCTAssertTrue(SpoolSandbox.waitUntil { self.server.requests.count == 1 }, "the head is in flight")
        // Job 1 is written slowly by a writer that ignores the tmp/ rule: undecodable and
        // young until its last bytes, two seconds on (after the head's answer).
        let (name, job) = laneJob(1, lane: 0)
        let text = try JSONSerialization.data(withJSONObject: job)
        let colon = try XCTUnwrap(text.firstIndex(of: UInt8(ascii: ":")))
        let path = sandbox.spool.appendingPathComponent("incoming/\(name)").path
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: text[...colon]))
        let writer = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        for _ in 0..<7 {
            usleep(300_000)
            try writer.seekToEnd()
            try writer.write(contentsOf: Data(" ".utf8))
        }
        try writer.seekToEnd()
        try writer.write(contentsOf: text[(colon + 1)...])
        try writer.close()
        XCTAssertTrue(SpoolSandbox.waitUntil(timeout: 15) { self.sandbox.jobs(in: "delivered").count == 4 }, run.standardError)
        XCTAssertEqual(arrivals()["/hooks/lane-0"], (0..<4).map { Self.name($0, lane: 0) })
    }

    /// `run` while its listings of incoming/ fail: inotify still reports new names, but a
    /// lane job it reports may be later than one only a listing would find. Lane jobs wait
    /// until a listing succeeds (the rescan, two seconds on), then go in name order.
    func testRunHoldsLaneJobsItHearsOfWhileItsListingsFail() throws {
        try makeSandbox(serverHandler: Self.jittery)
        try dropLaneJobs([0])
        let faults = sandbox.root.appendingPathComponent("faults.log")
        // A listing and its three retries at once, each cut short at its first readdir.
        let environment = try FaultLibrary.failing("readdir", call: 1, errno: "EIO", times: 4,
                                                   under: sandbox.spool.appendingPathComponent("incoming"), log: faults)
        let run = try OutboundProcess(["run", "--spool", sandbox.spool.path, "--config", sandbox.config.path], environment: environment)
        defer {
            run.signal(SIGTERM)
            _ = run.wait()
        }
        XCTAssertTrue(SpoolSandbox.waitUntil(timeout: 10) { FaultLibrary.injected(log: faults).count == 4 }, "the listings failed")
        try dropLaneJobs(1..<3)
        XCTAssertTrue(SpoolSandbox.waitUntil(timeout: 15) { self.sandbox.jobs(in: "delivered").count == 3 }, run.standardError)
        XCTAssertEqual(arrivals()["/hooks/lane-0"], (0..<3).map { Self.name($0, lane: 0) })
    }

    /// The lanes are free but cannot be taken (their folder under `.state/` cannot be made):
    /// a drain would wait for its lane jobs forever. It stops instead (exit 74) with nothing
    /// claimed, every job back in incoming/ for a later process, and says why.
    func testADrainThatCannotTakeTheLanesStopsInsteadOfWaitingForever() throws {
        try makeSandbox()
        try dropLaneJobs(0..<3)
        try sandbox.drop("plain.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/plain"))
        let faults = sandbox.root.appendingPathComponent("faults.log")
        let lanes = sandbox.spool.appendingPathComponent(".state/lanes")
        let result = try sandbox.drain(["--max-wait", "5"],
                                       environment: FaultLibrary.failing("mkdir", call: 1, errno: "ENOSPC", persist: true, under: lanes, log: faults),
                                       timeout: 30)
        XCTAssertEqual(result.status, 74, result.standardError)
        XCTAssertFalse(FaultLibrary.injected(log: faults).isEmpty, "the fault was injected")
        XCTAssertEqual(sandbox.jobs(in: "incoming").count, 4, "every job back in incoming/")
        XCTAssertEqual(sandbox.jobs(in: "active"), [])
        XCTAssertTrue(server.requests.isEmpty, "nothing sent")
        let errors = sandbox.audit("spool_error")
        XCTAssertEqual(errors.count, 1, "\(errors)")
        XCTAssertEqual(errors.first?["error"] as? String, "mkdir: ENOSPC (No space left on device)")
        XCTAssertTrue((errors.first?["message"] as? String)?.contains("ordered lanes could not be taken") == true, "\(errors)")
    }

    /// Lane 0's jobs 0 to 5, to a receiver that answers job 2 with a 404 (so it blocks its
    /// lane) and the others with a 204; returns job 2's name.
    func dropLaneWhoseThirdJobFails() throws -> String {
        let atFault = Self.name(2, lane: 0)
        try makeSandbox(serverHandler: { request in
            request.header("Idempotency-Key") == atFault ? .respond(status: 404) : .respond(status: 204)
        })
        try dropLaneJobs(0..<6)
        return atFault
    }

    /// A blocked lane's marker that cannot be written (its file's creation fails with EIO)
    /// must not leave the job at fault in failed/ with nothing on disk holding its lane: the
    /// drain stops (74), the job at fault and the lane's later jobs go back to incoming/,
    /// nothing after it is sent, and the next drain blocks the lane as it should have.
    func testALaneWhoseBlockedMarkerCannotBeWrittenSendsNothingPastItsFailedHead() throws {
        let atFault = try dropLaneWhoseThirdJobFails()
        // The first open under .state/lanes is the owner's lock file; the second, the marker's.
        let injected = try drainInjecting("open", call: 2, errno: "EIO", under: ".state/lanes", expect: 74)
        XCTAssertEqual(injected.count, 1, "the fault was injected")
        XCTAssertTrue(injected.first?.contains("/.state/lanes/.tmp-") ?? false, "on the marker's file: \(injected)")
        XCTAssertEqual(sandbox.jobs(in: "failed"), [], "the job at fault is not failed without its lane blocked")
        let summary = sandbox.audit("stopped").first?["message"] as? String
        XCTAssertTrue(summary?.hasPrefix("delivered=2 failed=0 ") ?? false, "the summary counts what is on disk: \(summary ?? "none")")
        XCTAssertEqual(sandbox.jobs(in: "incoming"), (2..<6).map { Self.name($0, lane: 0) + ".json" })
        XCTAssertEqual(sandbox.jobs(in: "active"), [])
        XCTAssertEqual(arrivals()["/hooks/lane-0"], (0..<3).map { Self.name($0, lane: 0) })
        XCTAssertTrue(sandbox.audit("spool_error").contains { $0["job"] as? String == atFault }, "\(sandbox.audit("spool_error"))")

        try drain()
        assertJob(atFault + ".json", isIn: "failed")
        XCTAssertEqual(sandbox.jobs(in: "hold"), (3..<6).map { Self.name($0, lane: 0) + ".json" })
        XCTAssertEqual(arrivals()["/hooks/lane-0"], [0, 1, 2, 2].map { Self.name($0, lane: 0) })
    }

    /// A marker written but not made durable (the fsync of its folder fails) is removed
    /// again: left there, it would send the lane's later jobs to hold/ behind a job at fault
    /// that went back to incoming/.
    func testALaneMarkerThatCannotBeMadeDurableIsRemovedAndItsLaneGoesBack() throws {
        _ = try dropLaneWhoseThirdJobFails()
        // The marker's file is fsynced first, then its folder.
        let injected = try drainInjecting("fsync", call: 2, errno: "EIO", under: ".state/lanes", expect: 74)
        XCTAssertEqual(injected.count, 1, "the fault was injected")
        XCTAssertTrue(injected.first?.hasSuffix("/.state/lanes") ?? false, "on the folder's fsync: \(injected)")
        let markers = (try? FileManager.default.contentsOfDirectory(atPath: sandbox.spool.appendingPathComponent(".state/lanes").path)) ?? []
        XCTAssertEqual(markers.filter { $0.hasSuffix(".blocked") }, [], "no marker left")
        XCTAssertEqual(sandbox.jobs(in: "hold"), [])
        XCTAssertEqual(sandbox.jobs(in: "failed"), [])
        XCTAssertEqual(sandbox.jobs(in: "incoming"), (2..<6).map { Self.name($0, lane: 0) + ".json" })
    }

    func testAnEarlierNameArrivingAfterLaterOnesWereSentIsDeliveredLateWithANote() throws {
        try makeSandbox()
        let runner = try sandbox.startRun()
        defer { runner.signal(SIGKILL); runner.wait(timeout: 5) }
        try dropLaneJobs([2, 3])
        XCTAssertTrue(SpoolSandbox.waitUntil { self.sandbox.jobs(in: "delivered").count == 2 })
        let (name, job) = laneJob(1, lane: 0)
        try sandbox.drop(name, job: job)
        XCTAssertTrue(SpoolSandbox.waitUntil { self.sandbox.jobs(in: "delivered").count == 3 }, "never dropped")
        runner.signal(SIGTERM)
        XCTAssertEqual(runner.wait(timeout: 30), 0, runner.standardError)
        XCTAssertEqual(arrivals()["/hooks/lane-0"], [2, 3, 1].map { Self.name($0, lane: 0) })
        let line = try XCTUnwrap(assertAudit("delivered", job: Self.name(1, lane: 0)).first)
        XCTAssertTrue((line["message"] as? String)?.contains("sent late") == true, "\(line)")
        XCTAssertNil(assertAudit("delivered", job: Self.name(3, lane: 0)).first?["message"])
    }
}
