import COutbound
@testable import OutboundCore
import XCTest

/// libcurl's result codes map to the contract's transport-error classes (section 7), all of
/// which are retried. (End to end, ResolveFailureTests resolves a name inside an empty
/// network namespace, so no query leaves the machine.)
final class TransportErrorTests: XCTestCase {
    func testCurlCodesMapToTheContractClasses() {
        XCTAssertEqual(CurlTransfer.classify(CURLE_COULDNT_RESOLVE_HOST).kind, .dns)
        XCTAssertEqual(CurlTransfer.classify(CURLE_COULDNT_CONNECT).kind, .connect)
        XCTAssertEqual(CurlTransfer.classify(CURLE_OPERATION_TIMEDOUT).kind, .timeout)
        XCTAssertEqual(CurlTransfer.classify(CURLE_PEER_FAILED_VERIFICATION).kind, .tls)
        XCTAssertEqual(CurlTransfer.classify(CURLE_SSL_CONNECT_ERROR).kind, .tls)
        XCTAssertEqual(CurlTransfer.classify(CURLE_RECV_ERROR).kind, .reset)
        XCTAssertEqual(CurlTransfer.classify(CURLE_GOT_NOTHING).kind, .reset)
        XCTAssertEqual(CurlTransfer.classify(CURLE_PARTIAL_FILE).kind, .reset)
    }

    func testAResolveFailureIsRetried() {
        let job = Job(id: "j", clientId: "c", url: TargetURL(scheme: "http", host: "h", port: 80, path: "/", query: nil,
                                                             absoluteString: "http://h/"))
        let policy = RetryPolicy(settings: RetrySettings(maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1000), jitter: NoJitter())
        let result = AttemptResult.transportError(CurlTransfer.classify(CURLE_COULDNT_RESOLVE_HOST))
        XCTAssertEqual(policy.outcome(of: result, attempt: 1, job: job, firstClaimedAt: 0, now: 0), .retry(delayMs: 100))
        XCTAssertEqual(policy.outcome(of: result, attempt: 3, job: job, firstClaimedAt: 0, now: 0), .failed(.retriesExhausted))
    }

    func testTheErrorTextNamesTheClassAndNeverTheURL() {
        let error = CurlTransfer.classify(CURLE_COULDNT_RESOLVE_HOST)
        XCTAssertTrue(error.description.hasPrefix("dns: "), error.description)
        XCTAssertFalse(error.description.contains("http"))
    }
}
