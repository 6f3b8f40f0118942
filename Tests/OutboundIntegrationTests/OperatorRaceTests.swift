import Foundation
import OutboundTestSupport
import XCTest

/// Contract section 9: operator commands are safe beside live dispatchers. Three `run`
/// processes deliver 5,000 jobs while a loop requeues, holds and releases at random: every job
/// ends delivered exactly once or where the last command put it (hold/), nothing is lost, and
/// the audit log agrees with the spool.
final class OperatorRaceTests: IntegrationTestCase {
    /// Which keys the receiver answered 2xx, and how often.
    final class Deliveries: @unchecked Sendable {
        private let lock = NSLock()
        private var answered: [String: Int] = [:]
        private var refusedOnce: Set<String> = []

        /// 503 on the first try of every tenth job (so some wait in deferred/), else 204.
        func answer(_ request: RecordedRequest) -> ServerAction {
            let key = request.header("Idempotency-Key") ?? ""
            lock.lock()
            defer { lock.unlock() }
            if key.hasSuffix("7"), refusedOnce.insert(key).inserted { return .respond(status: 503) }
            answered[key, default: 0] += 1
            // A little latency, so that delivery takes a few seconds and the loop meets jobs in every folder.
            return .respondAfter(milliseconds: 20, status: 204)
        }

        var counts: [String: Int] { lock.lock(); defer { lock.unlock() }; return answered }
    }

    func testRequeueHoldAndReleaseRaceThreeDispatchersWithoutLoss() throws {
        let deliveries = Deliveries()
        try makeSandbox(serverHandler: { deliveries.answer($0) }, settings: [
            "retry": ["maxAttempts": 20, "baseDelayMs": 200, "maxDelayMs": 400, "maxAgeSeconds": 3600],
            "concurrency": 8,
        ])
        let total = 5000
        let payload = try JSONSerialization.data(withJSONObject: SpoolSandbox.job(url: "\(server.baseURL)/hooks/race"), options: [.sortedKeys])
        for index in 0..<total { try sandbox.drop(String(format: "job-%05d.json", index), bytes: payload) }
        let runs = try (0..<3).map { _ in try sandbox.startRun(["--grace", "5"]) }
        defer { for run in runs where run.isRunning { run.signal(SIGKILL) } }

        // The operator's loop, while the dispatchers deliver.
        var generator = SystemRandomNumberGenerator()
        let deadline = Date().addingTimeInterval(3)
        var commands = 0
        // First a fixed opening while thousands of jobs are still queued, so that every kind
        // of line is met however the random part goes (on a loaded machine it may release
        // nothing at all); then random commands.
        let opening = [["hold", "--client", SpoolSandbox.activeClient], ["release", "--all"],
                       ["hold", "--client", SpoolSandbox.activeClient], ["requeue", "--from", "hold"]]
        while Date() < deadline || commands < 30 {
            let job = String(format: "job-%05d", Int.random(in: 0..<total, using: &generator))
            let arguments: [String]
            switch commands < opening.count ? -1 : Int.random(in: 0..<7, using: &generator) {
            case -1: arguments = opening[commands]
            case 0: arguments = ["hold", "--client", SpoolSandbox.activeClient]
            case 1: arguments = ["release", "--all"]
            case 2: arguments = ["requeue", "--from", "hold"]
            case 3: arguments = ["requeue", "--from", "deferred"]
            case 4: arguments = ["hold", job]
            case 5: arguments = ["release", job]
            // From hold/ only: a requeue from delivered/ is a resend, which this test counts as a second delivery.
            default: arguments = ["requeue", "hold/\(job).json"]
            }
            let result = try sandbox.outbound(arguments)
            // Named jobs may be elsewhere by now (65, or 66 for hold/NAME); never anything worse.
            XCTAssertTrue([0, 65, 66].contains(result.status ?? -1), "\(arguments): \(result.status ?? -1) \(result.standardError)")
            commands += 1
        }
        // The last command: hold whatever is still queued, so the end state is the operator's.
        XCTAssertEqual(try sandbox.outbound(["hold", "--client", SpoolSandbox.activeClient]).status, 0)
        let settled = SpoolSandbox.waitUntil(timeout: 60) {
            sandbox.jobs(in: "incoming").isEmpty && sandbox.jobs(in: "deferred").isEmpty && sandbox.jobs(in: "active").isEmpty
        }
        XCTAssertTrue(settled, "incoming \(sandbox.jobs(in: "incoming").count), deferred \(sandbox.jobs(in: "deferred").count), "
            + "active \(sandbox.jobs(in: "active").count)")
        for run in runs { run.signal(SIGTERM) }
        for run in runs { XCTAssertEqual(run.wait(timeout: 30), 0, run.standardError) }

        // Nothing lost: every job is in delivered/ or hold/, in exactly one of them.
        let delivered = Set(sandbox.jobs(in: "delivered"))
        let held = Set(sandbox.jobs(in: "hold"))
        XCTAssertTrue(delivered.isDisjoint(with: held))
        XCTAssertEqual(delivered.count + held.count, total, "delivered \(delivered.count), held \(held.count)")
        for folder in ["failed", "refused", "corrupt"] { XCTAssertEqual(sandbox.jobs(in: folder), [], folder) }

        // Delivered exactly once; a held job never.
        let counts = deliveries.counts
        for name in delivered {
            XCTAssertEqual(counts[String(name.dropLast(5))], 1, "\(name) answered 2xx: \(sandbox.auditLines.filter { $0["job"] as? String == String(name.dropLast(5)) })")
        }
        for name in held { XCTAssertNil(counts[String(name.dropLast(5))], "\(name) is held but was delivered") }

        // The audit log agrees: one delivered line per delivered job, and for every job, a
        // dispatcher's line never follows a held line until a release or requeue.
        var events: [String: [String]] = [:]
        for line in sandbox.auditLines {
            guard let job = line["job"] as? String, let event = line["event"] as? String else { continue }
            events[job, default: []].append(event)
        }
        for index in 0..<total {
            let id = String(format: "job-%05d", index)
            let sequence = events[id] ?? []
            XCTAssertEqual(sequence.filter { $0 == "delivered" }.count, delivered.contains("\(id).json") ? 1 : 0, "\(id): \(sequence)")
            var isHeld = false
            for event in sequence {
                switch event {
                case "held": isHeld = true
                case "released", "requeued": isHeld = false
                case "accepted", "delivered", "deferred":
                    XCTAssertFalse(isHeld, "\(id): \(event) while held: \(sequence)")
                default: break
                }
            }
            let last = sequence.last { ["held", "released", "requeued"].contains($0) }
            if held.contains("\(id).json") { XCTAssertEqual(last, "held", "\(id): \(sequence)") }
        }
        // The loop met jobs in every state it acts on.
        for event in ["held", "released", "requeued"] { XCTAssertGreaterThan(sandbox.audit(event).count, 0, event) }
        print("race: \(commands) commands; \(sandbox.audit("held").count) held, \(sandbox.audit("released").count) released, "
            + "\(sandbox.audit("requeued").count) requeued lines; \(delivered.count) delivered, \(held.count) held at the end")
        XCTAssertEqual(try sandbox.outbound(["audit", "verify"]).status, 0, "the hash chain covers the operator lines")
    }
}
