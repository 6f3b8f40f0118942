import XCTest
@testable import OutboundCore

/// Contract section 2: a job in `failed/`, `refused/` or `corrupt/` has `NAME.reason` beside it,
/// one JSON object with at least `reason`, `message`, `at`, and where known `attempts`, `status`, `error`.
final class ReasonSidecarTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = try Fixture.temporaryFolder("sidecar")
    }

    override func tearDownWithError() throws {
        if let folder { try? FileManager.default.removeItem(at: folder) }
    }

    func testSidecarIsOneJSONObjectOnOneLine() throws {
        let sidecar = ReasonSidecar(reason: "http_status", message: "the receiver answered 404", at: 1_795_923_584.5,
                                    job: "adt-0001", clientId: Fixture.clientId, attempts: 3, status: 404, error: "none")
        let bytes = sidecar.serialized()
        XCTAssertEqual(bytes.last, 0x0A)
        XCTAssertEqual(bytes.filter { $0 == 0x0A }.count, 1)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        XCTAssertEqual(object["reason"] as? String, "http_status")
        XCTAssertEqual(object["message"] as? String, "the receiver answered 404")
        XCTAssertEqual(object["at"] as? String, "2026-11-29T03:39:44.500Z")
        XCTAssertEqual(object["job"] as? String, "adt-0001")
        XCTAssertEqual(object["clientId"] as? String, Fixture.clientId)
        XCTAssertEqual(object["attempts"] as? Int, 3)
        XCTAssertEqual(object["status"] as? Int, 404)
        XCTAssertEqual(object["error"] as? String, "none")
    }

    func testUnknownFieldsAreLeftOut() throws {
        let bytes = ReasonSidecar(reason: "invalid_json", message: "m", at: 0).serialized()
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        XCTAssertEqual(Set(object.keys), ["reason", "message", "at"])
    }

    func testSidecarIsWrittenBesideTheJob() throws {
        let message = "field 'headers.X-Trace' contains CR, LF or NUL\n(second line)"
        try ReasonSidecar(reason: "invalid_job", message: message, at: 0, attempts: 0).write(beside: "adt-0001.json", in: folder.path)
        let written = try Data(contentsOf: folder.appendingPathComponent("adt-0001.json.reason"))
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: written) as? [String: Any])
        XCTAssertEqual(object["reason"] as? String, "invalid_job")
        XCTAssertEqual(object["message"] as? String, message)
        XCTAssertEqual(object["at"] as? String, "1970-01-01T00:00:00.000Z")
        XCTAssertEqual(object["attempts"] as? Int, 0)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        XCTAssertEqual(leftovers, ["adt-0001.json.reason"], "no temporary file is left behind")
    }

    func testRewritingASidecarReplacesIt() throws {
        try ReasonSidecar(reason: "http_status", message: "first", at: 0).write(beside: "j.json", in: folder.path)
        try ReasonSidecar(reason: "expired", message: "second", at: 1).write(beside: "j.json", in: folder.path)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(
            with: Data(contentsOf: folder.appendingPathComponent("j.json.reason"))) as? [String: Any])
        XCTAssertEqual(object["reason"] as? String, "expired")
        XCTAssertEqual(object["message"] as? String, "second")
    }
}
