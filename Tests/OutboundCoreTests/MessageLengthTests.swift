@testable import OutboundCore
import XCTest

/// Rejection and refusal messages go into one-line audit records and sidecars: whatever a
/// hostile job holds, they stay short.
final class MessageLengthTests: XCTestCase {
    func testAHugeReservedHeaderNameGivesAShortMessage() {
        let decoder = JobDecoder(clientIdHeader: "Epic-Client-ID", idempotencyHeader: "Idempotency-Key")
        let name = String(repeating: "X", count: 1 << 20)
        let job = "{\"clientId\":\"c\",\"url\":\"https://acme.example/hooks/a\",\"headers\":{\"\(name)\":\"1\",\"\(name.lowercased())\":\"2\"}}"
        XCTAssertThrowsError(try decoder.decode(Array(job.utf8), fileName: "j.json")) { error in
            let message = (error as? JobRejection)?.message ?? ""
            XCTAssertTrue(message.contains("given twice"), message.prefix(200).description)
            XCTAssertLessThan(message.utf8.count, 300)
        }
    }

    func testAHugePathGivesAShortRefusal() throws {
        let endpoint = Endpoint(url: try TargetURLParser.parse("https://acme.example/hooks/"))
        let record = ClientRecord(clientId: "c", application: "Acme", environment: .nonProduction, status: .active,
                                  scopes: nil, endpoints: [endpoint])
        let gate = Gate(registry: ClientRegistry([record]), environment: .nonProduction)
        let job = Job(id: "j", clientId: "c", url: try TargetURLParser.parse("https://acme.example/other/" + String(repeating: "p", count: 100_000)))
        guard case .refused(.endpointNotAllowed, let message) = gate.check(job) else { return XCTFail("not refused") }
        XCTAssertLessThan(message.utf8.count, 400)
    }
}
