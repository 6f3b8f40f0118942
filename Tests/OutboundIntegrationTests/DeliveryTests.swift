import Foundation
import OutboundTestSupport
import XCTest

/// Contract sections 4 and 7: what goes on the wire, and the 2xx outcome.
final class DeliveryTests: IntegrationTestCase {
    func testDeliveredJobSendsExactlyTheContractHeadersAndBody() throws {
        try makeSandbox()
        let body = "{\"event\":\"A01\",\"mrn\":\"CANARY-MRN-771\"}"
        try sandbox.drop("admit-1.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/adt?token=CANARY-QUERY", body: body,
                                                               extra: ["headers": ["X-Trace": "abc", "Authorization": "Bearer CANARY-AUTH"]]))
        try drain()

        assertJob("admit-1.json", isIn: "delivered")
        XCTAssertEqual(server.requestCount, 1)
        let request = try XCTUnwrap(server.requests.first)
        XCTAssertEqual(request.method, "POST")
        XCTAssertEqual(request.target, "/hooks/adt?token=CANARY-QUERY")
        XCTAssertEqual(request.bodyText, body)
        XCTAssertEqual(request.header("Epic-Client-ID"), SpoolSandbox.activeClient)
        XCTAssertEqual(request.header("Idempotency-Key"), "admit-1")
        XCTAssertEqual(request.header("User-Agent"), "outbound/0.1.0")
        XCTAssertEqual(request.header("Content-Type"), "application/json")
        XCTAssertEqual(request.header("X-Trace"), "abc")
        XCTAssertEqual(request.header("Authorization"), "Bearer CANARY-AUTH")
        XCTAssertNil(request.header("Expect"), "no Expect: 100-continue")
        XCTAssertNil(request.header("Accept"), "libcurl's default Accept is not added")
        XCTAssertNil(request.header("Transfer-Encoding"))
        let names = Set(request.headers.map { $0.name.lowercased() })
        XCTAssertEqual(names, ["host", "content-length", "content-type", "epic-client-id", "idempotency-key", "user-agent",
                               "x-trace", "authorization"])

        let delivered = assertAudit("delivered", job: "admit-1")
        XCTAssertEqual(delivered.first?["status"] as? Int, 204)
        XCTAssertEqual(delivered.first?["attempt"] as? Int, 1)
        XCTAssertEqual(delivered.first?["url"] as? String, "\(server.baseURL)/hooks/adt")
        XCTAssertEqual(delivered.first?["clientId"] as? String, SpoolSandbox.activeClient)
        XCTAssertEqual(delivered.first?["bytes"] as? Int, body.utf8.count)
        XCTAssertEqual(delivered.first?["bodySha256"] as? String, sha256Hex(Array(body.utf8)))
        assertAudit("accepted", job: "admit-1")
    }

    /// A job that names its own User-Agent sends that one, once, in place of Outbound's.
    func testAJobsOwnUserAgentGoesOutInsteadOfOutbounds() throws {
        try makeSandbox()
        try sandbox.drop("ua.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/ua",
                                                           extra: ["headers": ["User-Agent": "epic-bridge/2"]]))
        try drain()
        assertJob("ua.json", isIn: "delivered")
        let request = try XCTUnwrap(server.requests.first)
        XCTAssertEqual(request.headers(named: "User-Agent"), ["epic-bridge/2"])
    }

    /// "The job's headers exactly": an empty value and a value of blanks (the same thing in
    /// HTTP) reach the receiver as empty headers; libcurl alone would drop both.
    func testEmptyAndBlankHeaderValuesReachTheReceiverEmpty() throws {
        try makeSandbox()
        try sandbox.drop("blank.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/b",
                                                             extra: ["headers": ["X-Empty": "", "X-Blank": "   ", "X-Set": "v"]]))
        try drain()
        assertJob("blank.json", isIn: "delivered")
        let request = try XCTUnwrap(server.requests.first)
        XCTAssertEqual(request.header("X-Empty"), "")
        XCTAssertEqual(request.header("X-Blank"), "")
        XCTAssertEqual(request.header("X-Set"), "v")
    }

    func testJobIdAndContentTypeFromTheJobAreUsed() throws {
        try makeSandbox()
        try sandbox.drop("file-name.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/x", body: "<xml/>",
                                                                 extra: ["id": "msg-42", "headers": ["Content-Type": "application/xml"]]))
        try drain()
        let request = try XCTUnwrap(server.requests.first)
        XCTAssertEqual(request.header("Idempotency-Key"), "msg-42")
        XCTAssertEqual(request.headers(named: "Content-Type"), ["application/xml"])
        assertAudit("delivered", job: "msg-42")
    }

    func testOneConnectionCarriesMixedRequestsWithoutLeakingOneIntoTheNext() throws {
        // concurrency 1: every request goes through the same reused easy handle, so options
        // left from one request (a custom method, a body) must not reach the next.
        try makeSandbox(settings: ["concurrency": 1, "perHostConcurrency": 1])
        let sequence: [(method: String, body: String?)] = [
            ("POST", "one"), ("DELETE", nil), ("PUT", "three"), ("GET", nil), ("POST", nil), ("PATCH", "six"),
            ("POST", "seven"), ("PUT", nil), ("POST", "nine"), ("DELETE", nil),
        ]
        for (index, step) in sequence.enumerated() {
            try sandbox.drop(String(format: "seq-%02d.json", index),
                             job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/\(index)", body: step.body, extra: ["method": step.method]))
        }
        try drain()
        XCTAssertEqual(server.requestCount, sequence.count)
        XCTAssertEqual(server.connectionCount, 1, "one keep-alive connection for all")
        for request in server.requests {
            let index = try XCTUnwrap(Int(request.target.split(separator: "/").last ?? ""))
            let step = sequence[index]
            XCTAssertEqual(request.method, step.method, "request \(index)")
            XCTAssertEqual(request.bodyText, step.body ?? "", "request \(index)")
            let length = request.header("Content-Length")
            if let body = step.body {
                XCTAssertEqual(length, String(body.utf8.count), "request \(index)")
            } else if step.method == "GET" || step.method == "DELETE" {
                XCTAssertTrue(length == nil || length == "0", "request \(index): Content-Length \(length ?? "none")")
            } else {
                XCTAssertEqual(length, "0", "request \(index): an empty body is announced")
            }
            XCTAssertNil(request.header("Transfer-Encoding"), "request \(index)")
            XCTAssertNil(request.header("Expect"), "request \(index)")
        }
        XCTAssertEqual(sandbox.jobs(in: "delivered").count, sequence.count)
    }

    func testEveryMethodIsSentAsWritten() throws {
        try makeSandbox()
        for method in ["GET", "PUT", "PATCH", "DELETE", "POST"] {
            let body: String? = method == "GET" ? nil : (method == "DELETE" ? nil : "{\"m\":\"\(method)\"}")
            try sandbox.drop("m-\(method).json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/\(method)", body: body,
                                                                        extra: ["method": method]))
        }
        try drain()
        XCTAssertEqual(server.requestCount, 5)
        for request in server.requests {
            let method = String(request.target.split(separator: "/").last ?? "")
            XCTAssertEqual(request.method, method)
            if method == "GET" || method == "DELETE" {
                XCTAssertTrue(request.body.isEmpty)
                XCTAssertNil(request.header("Content-Type"), "no body, no Content-Type for \(method)")
            } else {
                XCTAssertEqual(request.bodyText, "{\"m\":\"\(method)\"}")
            }
            XCTAssertNil(request.header("Expect"))
        }
        XCTAssertEqual(sandbox.jobs(in: "delivered").count, 5)
    }

    func testBinaryBodyIsSentByteForByte() throws {
        try makeSandbox()
        let bytes: [UInt8] = [0, 1, 2, 0xFF, 0xFE, 0x0D, 0x0A, 0x7F, 0x80]
        try sandbox.drop("binary.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/bin", body: nil,
                                                              extra: ["bodyBase64": Data(bytes).base64EncodedString(),
                                                                      "headers": ["Content-Type": "application/octet-stream"]]))
        try drain()
        XCTAssertEqual(server.requests.first?.body, bytes)
        XCTAssertEqual(server.requests.first?.header("Content-Type"), "application/octet-stream")
        XCTAssertEqual(assertAudit("delivered", job: "binary").first?["bodySha256"] as? String, sha256Hex(bytes))
    }

    func testPostWithoutBodySendsNoContentType() throws {
        try makeSandbox()
        try sandbox.drop("empty.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/empty", body: nil))
        try drain()
        let request = try XCTUnwrap(server.requests.first)
        XCTAssertEqual(request.method, "POST")
        XCTAssertNil(request.header("Content-Type"))
        XCTAssertEqual(request.header("Content-Length"), "0")
    }

    func testConnectionsAreReusedAcrossJobs() throws {
        try makeSandbox(settings: ["concurrency": 4, "perHostConcurrency": 2])
        for index in 0..<40 {
            try sandbox.drop("reuse-\(index).json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/\(index)"))
        }
        try drain()
        XCTAssertEqual(sandbox.jobs(in: "delivered").count, 40)
        XCTAssertEqual(server.requestCount, 40)
        XCTAssertLessThanOrEqual(server.connectionCount, 4, "keep-alive: 40 requests over at most perHostConcurrency-ish connections")
    }

    func testPerHostConcurrencyIsNeverExceeded() throws {
        let tracker = ConcurrencyTracker()
        try makeSandbox(serverHandler: { _ in
            tracker.enter()
            usleep(50_000)
            tracker.leave()
            return .respond(status: 204)
        }, settings: ["concurrency": 16, "perHostConcurrency": 3])
        for index in 0..<24 {
            try sandbox.drop("limit-\(index).json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/\(index)"))
        }
        try drain()
        XCTAssertEqual(sandbox.jobs(in: "delivered").count, 24)
        XCTAssertLessThanOrEqual(tracker.peak, 3)
        XCTAssertGreaterThanOrEqual(tracker.peak, 2, "transfers do run in parallel")
    }

    func testClaimsStopAtEightTimesConcurrencyWhileTheReceiverStalls() throws {
        // The receiver holds every request for a minute, within the attempt timeout: two are
        // in flight and the rest wait. The dispatcher claims ahead, but never more than
        // 8 x concurrency jobs at once.
        try makeSandbox(serverHandler: { _ in .respondAfter(milliseconds: 60_000, status: 204) },
                        settings: ["concurrency": 2, "perHostConcurrency": 2, "timeoutMs": 90_000])
        for index in 0..<40 {
            try sandbox.drop(String(format: "stall-%02d.json", index), job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/\(index)"))
        }
        let running = try sandbox.startRun(["--grace", "0"])
        defer { if running.isRunning { running.signal(SIGKILL); running.wait(timeout: 5) } }
        XCTAssertTrue(server.waitForRequests(2, timeout: 10))
        XCTAssertTrue(SpoolSandbox.waitUntil(timeout: 10) { self.sandbox.audit("accepted").count >= 16 })
        // Given time to claim more, it does not.
        usleep(1_000_000)
        XCTAssertEqual(sandbox.jobs(in: "active").count, 8 * 2, "8 x concurrency 2")
        XCTAssertEqual(sandbox.jobs(in: "incoming").count, 24)
        XCTAssertEqual(sandbox.audit("accepted").count, 16)
        XCTAssertEqual(server.requestCount, 2, "no more than concurrency in flight")

        running.signal(SIGTERM)
        XCTAssertEqual(running.wait(timeout: 20), 0)
        XCTAssertEqual(sandbox.jobs(in: "incoming").count, 40, "a stop puts every claim back")
    }

    func testDueRetriesAreClaimedBesideABacklogWithinTheSameBound() throws {
        // Twenty jobs wait in incoming/ and twenty retries are due in deferred/; the receiver
        // holds every request. Both sources share one bound of 8 x concurrency: the intake
        // leaves room for the retries, and the retries do not come on top of its share.
        try makeSandbox(serverHandler: { _ in .respondAfter(milliseconds: 60_000, status: 204) },
                        settings: ["concurrency": 1, "perHostConcurrency": 1, "timeoutMs": 90_000])
        let deferred = sandbox.spool.appendingPathComponent("deferred")
        try FileManager.default.createDirectory(at: deferred, withIntermediateDirectories: true)
        // Megabyte bodies make the intake slow to read its share, so the loop looks at the
        // retries while the intake still holds room it has not filled.
        let largeBody = String(repeating: "x", count: 1_000_000)
        for index in 0..<20 {
            try sandbox.drop(String(format: "new-%02d.json", index), job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/new", body: largeBody))
            try JSONSerialization.data(withJSONObject: SpoolSandbox.job(url: "\(server.baseURL)/hooks/retry"))
                .write(to: deferred.appendingPathComponent(String(format: "retry-%02d.json", index)))
        }
        let running = try sandbox.startRun(["--grace", "0"])
        defer { if running.isRunning { running.signal(SIGKILL); running.wait(timeout: 5) } }
        XCTAssertTrue(server.waitForRequests(1, timeout: 10))
        XCTAssertTrue(SpoolSandbox.waitUntil(timeout: 10) { self.sandbox.jobs(in: "active").count >= 8 })
        usleep(1_000_000)
        let held = sandbox.jobs(in: "active")
        XCTAssertEqual(held.count, 8, "8 x concurrency 1, from both folders together")
        // How the eight split depends on which thread gets there first; that retries are
        // among them does not (the intake's credit leaves room for them while they are due).
        let retriesHeld = held.filter { $0.hasPrefix("retry-") }.count
        XCTAssertGreaterThanOrEqual(retriesHeld, 1, "room is kept for due retries")
        XCTAssertEqual(sandbox.jobs(in: "incoming").count, 20 - (8 - retriesHeld))
        XCTAssertEqual(sandbox.jobs(in: "deferred").count, 20 - retriesHeld)
        XCTAssertEqual(server.requestCount, 1)

        running.signal(SIGTERM)
        XCTAssertEqual(running.wait(timeout: 20), 0)
        XCTAssertEqual(sandbox.jobs(in: "incoming").count + sandbox.jobs(in: "deferred").count, 40, "a stop puts every claim back")
    }

    func testAReusedFileNameNeverOverwritesAndKeepsItsIdempotencyKey() throws {
        try makeSandbox()
        try sandbox.drop("dup.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/first"))
        try drain()
        try sandbox.drop("dup.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/second"))
        try drain()
        XCTAssertEqual(sandbox.jobs(in: "delivered"), ["dup.json", "dup~1.json"])
        XCTAssertEqual(server.requests.map(\.target), ["/hooks/first", "/hooks/second"])
        XCTAssertEqual(server.requests.map { $0.header("Idempotency-Key") }, ["dup", "dup"])
        let first = try String(contentsOf: sandbox.spool.appendingPathComponent("delivered/dup.json"), encoding: .utf8)
        XCTAssertTrue(first.contains("first") && !first.contains("second"), "the first delivered job is kept as it was")
    }

    /// An upstream system that names every job the same: 12,000 namesakes already in
    /// delivered/ (the search once tried ~1 to ~10,000 in turn and then stopped the process)
    /// and the next one is still filed, under the next free name, with its line.
    func testANameReusedTwelveThousandTimesIsStillFiled() throws {
        try makeSandbox()
        let delivered = sandbox.spool.appendingPathComponent("delivered")
        try FileManager.default.createDirectory(at: delivered, withIntermediateDirectories: true)
        let folder = delivered.path
        var made = 0
        for suffix in 0...12_000 {
            let descriptor = open(suffix == 0 ? "\(folder)/dup.json" : "\(folder)/dup~\(suffix).json", O_WRONLY | O_CREAT | O_EXCL, 0o644)
            if descriptor >= 0 { made += 1; close(descriptor) }
        }
        XCTAssertEqual(made, 12_001)
        try sandbox.drop("dup.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/reused"))
        try drain()
        XCTAssertEqual(server.requests.map(\.target), ["/hooks/reused"])
        let filed = try String(contentsOf: delivered.appendingPathComponent("dup~12001.json"), encoding: .utf8)
        XCTAssertTrue(filed.contains("reused"), "the job's own bytes under the next free name")
        XCTAssertEqual(sandbox.jobs(in: "delivered").count, 12_002)
        XCTAssertEqual(sandbox.jobs(in: "incoming") + sandbox.jobs(in: "active"), [])
        assertAudit("delivered", job: "dup")
    }

    func testJobsInHoldAreNeverSent() throws {
        try makeSandbox()
        let hold = sandbox.spool.appendingPathComponent("hold")
        try FileManager.default.createDirectory(at: hold, withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: SpoolSandbox.job(url: "\(server.baseURL)/hooks/held"))
            .write(to: hold.appendingPathComponent("parked.json"))
        try sandbox.drop("free.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/free"))
        try drain()
        XCTAssertEqual(server.requests.map(\.target), ["/hooks/free"])
        assertJob("parked.json", isIn: "hold")
    }

    func testMixedSpoolReplaysToTheRightFolders() throws {
        try makeSandbox()
        _ = try sandbox.replay(fixtureSet: "mixed", baseURL: server.baseURL)
        let result = try drain()
        XCTAssertEqual(sandbox.jobs(in: "delivered"), ["good-1.json", "good-2.json", "good-3.json"])
        XCTAssertEqual(sandbox.jobs(in: "refused"), ["refused-inactive.json"])
        XCTAssertEqual(sandbox.jobs(in: "corrupt"), ["corrupt-truncated.json"])
        XCTAssertEqual(server.requestCount, 3)
        XCTAssertTrue(result.standardOutput.contains("delivered=3"), result.standardOutput)
        XCTAssertTrue(result.standardOutput.contains("refused=1"), result.standardOutput)
        XCTAssertTrue(result.standardOutput.contains("corrupt=1"), result.standardOutput)
        XCTAssertEqual(sandbox.jobs(in: "incoming"), [])
        XCTAssertEqual(sandbox.jobs(in: "active"), [])
    }
}

/// Counts requests in progress at once on the server.
final class ConcurrencyTracker: @unchecked Sendable {
    // @unchecked: both counters are only touched under `lock`.
    private let lock = NSLock()
    private var current = 0
    private(set) var peakValue = 0

    func enter() {
        lock.lock(); current += 1; peakValue = max(peakValue, current); lock.unlock()
    }

    func leave() {
        lock.lock(); current -= 1; lock.unlock()
    }

    var peak: Int {
        lock.lock(); defer { lock.unlock() }
        return peakValue
    }
}

/// SHA-256 by the coreutils tool, independent of the code under test.
func sha256Hex(_ bytes: [UInt8]) -> String {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("sha-\(UUID().uuidString)")
    try? Data(bytes).write(to: url)
    defer { try? FileManager.default.removeItem(at: url) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
    process.arguments = [url.path]
    let pipe = Pipe()
    process.standardOutput = pipe
    try? process.run()
    process.waitUntilExit()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    return String(output.prefix(64))
}
