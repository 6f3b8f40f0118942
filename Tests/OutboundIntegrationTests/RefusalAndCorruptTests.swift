import Foundation
import OutboundTestSupport
import XCTest

/// Contract section 6: a refused job goes to refused/ with its reason, and nothing reaches
/// the target. Replays `Tests/Fixtures/refusals/`, whose file names start with the expected
/// reason code.
final class RefusalTests: IntegrationTestCase {
    func testEveryRefusalReasonIsRecordedAndNothingIsSent() throws {
        try makeSandbox()
        let names = try sandbox.replay(fixtureSet: "refusals", baseURL: server.baseURL)
        XCTAssertGreaterThanOrEqual(names.count, 10)
        try drain()

        XCTAssertEqual(server.requestCount, 0, "not one request for a refused job")
        XCTAssertEqual(server.connectionCount, 0, "not even a connection")
        XCTAssertEqual(sandbox.jobs(in: "refused"), names)
        let reasons = ["missing_client_id", "unknown_client_id", "inactive_client_id", "wrong_environment", "out_of_scope", "endpoint_not_allowed"]
        for name in names {
            let expected = try XCTUnwrap(reasons.first { name.hasPrefix($0) }, name)
            let sidecar = try XCTUnwrap(sandbox.reason(of: name, in: "refused"), "sidecar for \(name)")
            XCTAssertEqual(sidecar["reason"] as? String, expected, name)
            XCTAssertNotNil(sidecar["message"] as? String)
            XCTAssertNotNil(sidecar["at"] as? String)
            let job = String(name.dropLast(5))
            let line = assertAudit("refused", job: job).first
            XCTAssertEqual(line?["reason"] as? String, expected, name)
            XCTAssertEqual(sandbox.audit("accepted", job: job).count, 0)
        }
        // Every reason code of the contract is covered by the fixtures.
        for reason in reasons {
            XCTAssertTrue(names.contains { $0.hasPrefix(reason) }, "a fixture for \(reason)")
        }
    }

    func testRefusalsAreCheckedInTheContractOrder() throws {
        // Inactive and out of scope and wrong endpoint at once: the first rule wins.
        try makeSandbox()
        try sandbox.drop("order.json", job: ["clientId": SpoolSandbox.inactiveClient, "service": "Nope",
                                             "url": "http://127.0.0.2:9/elsewhere"])
        try drain()
        XCTAssertEqual(sandbox.reason(of: "order.json", in: "refused")?["reason"] as? String, "inactive_client_id")
    }

    func testLookAlikeEndpointsAreRefused() throws {
        try makeSandbox()
        let port = server.port
        let lookAlikes = [
            "http://127.0.0.1:\(port)/hooksx/a",
            "http://127.0.0.1:\(port)/hook",
            "http://127.0.0.1:\(port)/",
            "https://127.0.0.1:\(port)/hooks/a",
            "http://127.0.0.1:\(port + 1)/hooks/a",
            "http://127.0.0.1.nip.invalid:\(port)/hooks/a",
            "http://localhost:\(port)/hooks/a",
            "http://127.0.0.1:\(port)/hooks/%2e%2e/admin",
            "http://127.0.0.1:\(port)/hooks/..%2Fadmin",
            "http://127.0.0.1:\(port)/hooks/../admin",
        ]
        for (index, url) in lookAlikes.enumerated() {
            try sandbox.drop("look-\(index).json", job: SpoolSandbox.job(url: url))
        }
        try drain()
        XCTAssertEqual(server.requestCount, 0)
        XCTAssertEqual(sandbox.jobs(in: "refused").count, lookAlikes.count)
        for index in lookAlikes.indices {
            XCTAssertEqual(sandbox.reason(of: "look-\(index).json", in: "refused")?["reason"] as? String, "endpoint_not_allowed", lookAlikes[index])
        }
    }
}

/// Contract sections 2 and 3: files that are not valid jobs go to corrupt/ unsent, with a
/// reason naming the field, and valid jobs beside them are still delivered.
final class CorruptTests: IntegrationTestCase {
    func testCorruptFixturesAreSetAsideWithTheirReason() throws {
        try makeSandbox()
        let names = try sandbox.replay(fixtureSet: "corrupt", baseURL: server.baseURL)
        try sandbox.drop("good.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/good"))
        try drain()

        XCTAssertEqual(sandbox.jobs(in: "corrupt"), names)
        XCTAssertEqual(server.requestCount, 1, "only the good job is sent")
        assertJob("good.json", isIn: "delivered")
        for name in names {
            let expected = name.hasPrefix("invalid_json") ? "invalid_json" : "invalid_job"
            let sidecar = try XCTUnwrap(sandbox.reason(of: name, in: "corrupt"), name)
            XCTAssertEqual(sidecar["reason"] as? String, expected, name)
            XCTAssertFalse((sidecar["message"] as? String ?? "").isEmpty)
            XCTAssertEqual(sandbox.auditLines.filter { ($0["event"] as? String) == "corrupt" && ($0["file"] as? String) == name }.count, 1, name)
        }
        let unknownField = sandbox.reason(of: "invalid_job_unknown_field.json", in: "corrupt")?["message"] as? String ?? ""
        XCTAssertTrue(unknownField.contains("colour"), "the message names the field: \(unknownField)")
        let reserved = sandbox.reason(of: "invalid_job_reserved_header.json", in: "corrupt")?["message"] as? String ?? ""
        XCTAssertTrue(reserved.contains("Host"), reserved)
    }

    func testOversizedFileIsTooLarge() throws {
        try makeSandbox(settings: ["maxJobBytes": 1024])
        let big = String(repeating: "x", count: 2000)
        try sandbox.drop("big.json", bytes: Data("{\"clientId\":\"\(SpoolSandbox.activeClient)\",\"url\":\"\(server.baseURL)/hooks/a\",\"body\":\"\(big)\"}".utf8), age: 5)
        try drain()
        XCTAssertEqual(sandbox.reason(of: "big.json", in: "corrupt")?["reason"] as? String, "too_large")
        XCTAssertEqual(server.requestCount, 0)
    }

    func testSymlinkFolderAndFifoAreUnsupportedFilesLeftUnread() throws {
        try makeSandbox()
        let incoming = sandbox.spool.appendingPathComponent("incoming")
        let target = sandbox.root.appendingPathComponent("secret.txt")
        try Data("{}".utf8).write(to: target)
        try FileManager.default.createSymbolicLink(atPath: incoming.appendingPathComponent("link.json").path, withDestinationPath: target.path)
        try FileManager.default.createDirectory(at: incoming.appendingPathComponent("folder.json"), withIntermediateDirectories: false)
        XCTAssertEqual(mkfifo(incoming.appendingPathComponent("pipe.json").path, 0o644), 0)
        try Data("ignored".utf8).write(to: incoming.appendingPathComponent("notes.txt"))
        try drain()
        for name in ["link.json", "folder.json", "pipe.json"] {
            XCTAssertEqual(sandbox.reason(of: name, in: "corrupt")?["reason"] as? String, "unsupported_file", name)
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: incoming.appendingPathComponent("notes.txt").path), "other names are left alone")
        XCTAssertTrue(FileManager.default.fileExists(atPath: target.path), "the symlink's target is untouched")
    }

    func testFreshUndecodableFileIsLeftForALaterPass() throws {
        try makeSandbox()
        let start = Date()
        // Fresh (mtime now): the writer may still be writing. Completed 300 ms later.
        let url = try sandbox.drop("slow.json", bytes: Data("{\"clientId\":".utf8))
        let baseURL = server.baseURL
        let completer = Thread {
            usleep(300_000)
            let job = "{\"clientId\":\"\(SpoolSandbox.activeClient)\",\"service\":\"ADT.Notify\",\"url\":\"\(baseURL)/hooks/slow\"}"
            // Rewrite in place, as a careless writer would.
            if let handle = try? FileHandle(forWritingTo: url) {
                handle.truncateFile(atOffset: 0)
                handle.write(Data(job.utf8))
                handle.closeFile()
            }
        }
        let running = try sandbox.startRun()
        completer.start()
        XCTAssertTrue(SpoolSandbox.waitUntil(timeout: 10) { self.sandbox.jobs(in: "delivered") == ["slow.json"] },
                      "folders: corrupt=\(sandbox.jobs(in: "corrupt")) incoming=\(sandbox.jobs(in: "incoming"))")
        running.signal(SIGTERM)
        XCTAssertEqual(running.wait(timeout: 20), 0)
        XCTAssertEqual(sandbox.jobs(in: "corrupt"), [])
        XCTAssertLessThan(Date().timeIntervalSince(start), 10)
    }

    func testStaleUndecodableFileGoesToCorruptAfterTheGrace() throws {
        try makeSandbox()
        try sandbox.drop("stale.json", bytes: Data("{\"half\":".utf8))
        let started = Date()
        try drain()
        XCTAssertEqual(sandbox.reason(of: "stale.json", in: "corrupt")?["reason"] as? String, "invalid_json")
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.5, "it waited for the 1-second grace")
    }
}
