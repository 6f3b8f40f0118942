import Foundation
import OutboundTestSupport
@testable import OutboundCore
import XCTest

/// What a destination that is down looks like to Outbound today, the ground the circuit
/// breaker (contract section 13) stands on: a listener that never accepts ends attempts in
/// errors that count for the circuit, and a server can take its port over when it recovers.
final class SilentDestinationTests: IntegrationTestCase {
    func testAListenerThatNeverAcceptsEndsAttemptsInErrorsThatCountForTheCircuit() throws {
        let silent = try SilentListener()
        try makeSandbox(settings: ["connectTimeoutMs": 300, "timeoutMs": 500, "retry": ["maxAttempts": 1]])
        try sandbox.writeClients(endpoint: "\(silent.baseURL)/hooks/")
        for index in 0..<4 {
            try sandbox.drop("down-\(index).json", job: SpoolSandbox.job(url: "\(silent.baseURL)/hooks/\(index)"))
        }
        try drain()
        let failed = sandbox.audit("failed")
        XCTAssertEqual(failed.count, 4, sandbox.auditText)
        for line in failed {
            let error = line["error"] as? String ?? ""
            let kind = TransportError.Kind(rawValue: String(error.prefix { $0 != ":" }))
            XCTAssertTrue(kind == .timeout || kind == .connect, error)
            XCTAssertEqual(CircuitVerdict.verdict(for: TransportError(kind: kind ?? .other, detail: "")), .unreachable)
        }
    }

    func testAServerCanTakeOverASilentListenersPort() throws {
        let silent = try SilentListener()
        let port = silent.port
        silent.close()
        let recovered = try LoopbackHTTPServer(port: port, handler: { _ in .respond(status: 204) })
        XCTAssertEqual(recovered.port, port)
        try makeSandbox()
        try sandbox.writeClients(endpoint: "\(recovered.baseURL)/hooks/")
        try sandbox.drop("back.json", job: SpoolSandbox.job(url: "\(recovered.baseURL)/hooks/b"))
        try drain()
        assertJob("back.json", isIn: "delivered")
        XCTAssertEqual(recovered.requestCount, 1)
    }
}
