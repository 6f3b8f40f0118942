import Foundation
import OutboundTestSupport
import XCTest

/// Contract section 9: `list` and `show`, for people and scripts.
final class OperatorViewTests: IntegrationTestCase {
    func testListJSONLinesHaveTheDocumentedFields() throws {
        try makeSandbox(serverHandler: { _ in .respond(status: 404) })
        try sandbox.drop("f1.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/f1"))
        try drain()
        try sandbox.drop("n1.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/n1", extra: ["id": "explicit-7"]))
        let result = try sandbox.outbound(["list", "--json"])
        XCTAssertEqual(result.status, 0, result.standardError)
        let objects = result.standardOutput.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        XCTAssertEqual(objects.count, 2, result.standardOutput)
        let failed = try XCTUnwrap(objects.first { $0["folder"] as? String == "failed" })
        XCTAssertEqual(failed["file"] as? String, "f1.json")
        XCTAssertEqual(failed["id"] as? String, "f1")
        XCTAssertEqual(failed["clientId"] as? String, SpoolSandbox.activeClient)
        XCTAssertEqual(failed["reason"] as? String, "http_status")
        XCTAssertEqual(failed["attempts"] as? Int, 1)
        XCTAssertNotNil(failed["ageSeconds"] as? Int)
        let incoming = try XCTUnwrap(objects.first { $0["folder"] as? String == "incoming" })
        XCTAssertEqual(incoming["id"] as? String, "explicit-7")
        // delivered/ is left out unless named; --reason filters.
        let filtered = try sandbox.outbound(["list", "failed", "--reason", "expired", "--json"])
        XCTAssertEqual(filtered.standardOutput, "")
    }

    func testListAgesIsAHistogramPerClient() throws {
        try makeSandbox()
        for (index, minutes) in [0.5, 3, 3, 100, 2000].enumerated() {
            let url = try sandbox.drop("a\(index).json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/a"))
            try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-minutes * 60)], ofItemAtPath: url.path)
        }
        let result = try sandbox.outbound(["list", "--ages", "--json"])
        XCTAssertEqual(result.status, 0, result.standardError)
        let objects = result.standardOutput.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        let client = try XCTUnwrap(objects.first { $0["clientId"] as? String == SpoolSandbox.activeClient })
        XCTAssertEqual(client["count"] as? Int, 5)
        let buckets = try XCTUnwrap(client["buckets"] as? [String: Int])
        XCTAssertEqual(buckets["1m"], 1)
        XCTAssertEqual(buckets["5m"], 2)
        XCTAssertEqual(buckets["160m"], 1)
        XCTAssertEqual(buckets["1280m+"], 1)
        XCTAssertEqual(objects.first?["total"] as? Bool, true)
        let text = try sandbox.outbound(["list", "--ages"])
        XCTAssertTrue(text.standardOutput.contains("1280m+"), text.standardOutput)
    }

    func testShowHidesHeaderValuesBodyAndQueryUnlessAsked() throws {
        try makeSandbox(serverHandler: { _ in .respond(status: 404) })
        try sandbox.drop("p1.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/p1?mrn=SECRETQUERY", body: "SECRETBODY",
                                                          extra: ["headers": ["X-Token": "SECRETHEADER"]]))
        try drain()
        let plain = try sandbox.outbound(["show", "p1"])
        XCTAssertEqual(plain.status, 0, plain.standardError)
        for secret in ["SECRETQUERY", "SECRETBODY", "SECRETHEADER"] {
            XCTAssertFalse(plain.standardOutput.contains(secret), "\(secret) shown: \(plain.standardOutput)")
        }
        XCTAssertTrue(plain.standardOutput.contains("failed/p1.json"))
        XCTAssertTrue(plain.standardOutput.contains("X-Token"))
        XCTAssertTrue(plain.standardOutput.contains("\"event\":\"failed\""), "its audit lines")
        XCTAssertTrue(plain.standardOutput.contains("http_status"), "its sidecar")

        let json = try sandbox.outbound(["show", "failed/p1.json", "--json"])
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any])
        XCTAssertEqual(object["folder"] as? String, "failed")
        let audit = try XCTUnwrap(object["audit"] as? [[String: Any]])
        XCTAssertEqual(audit.map { $0["event"] as? String }, ["accepted", "failed"])
        let job = try XCTUnwrap(object["job"] as? [String: Any])
        XCTAssertEqual((job["body"] as? [String: Any])?["length"] as? Int, 10)
        XCTAssertFalse(json.standardOutput.contains("SECRET"))

        let full = try sandbox.outbound(["show", "p1", "--body"])
        for secret in ["SECRETQUERY", "SECRETBODY", "SECRETHEADER"] {
            XCTAssertTrue(full.standardOutput.contains(secret), "\(secret) with --body")
        }
    }
}
