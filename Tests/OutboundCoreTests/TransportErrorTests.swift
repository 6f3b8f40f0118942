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

    /// Contract section 13: errors local to this host never count against a destination.
    func testLocalShortagesAndLocalFilesAreMarkedLocal() {
        XCTAssertTrue(CurlTransfer.classify(CURLE_COULDNT_CONNECT, osErrno: EMFILE).isLocal)
        XCTAssertTrue(CurlTransfer.classify(CURLE_COULDNT_CONNECT, osErrno: ENOMEM).isLocal)
        XCTAssertTrue(CurlTransfer.classify(CURLE_OUT_OF_MEMORY).isLocal)
        XCTAssertTrue(CurlTransfer.classify(CURLE_SSL_CACERT_BADFILE).isLocal)
        XCTAssertTrue(CurlTransfer.classify(CURLE_SSL_CERTPROBLEM).isLocal)
        XCTAssertFalse(CurlTransfer.classify(CURLE_COULDNT_CONNECT, osErrno: ECONNREFUSED).isLocal)
        XCTAssertFalse(CurlTransfer.classify(CURLE_OPERATION_TIMEDOUT).isLocal)
        XCTAssertFalse(CurlTransfer.classify(CURLE_PEER_FAILED_VERIFICATION).isLocal)
        XCTAssertFalse(CurlTransfer.classify(CURLE_COULDNT_RESOLVE_HOST).isLocal)
    }

    /// The meter reads the status code from the status line libcurl hands the header callback.
    func testStatusLineCodes() {
        func code(_ line: String) -> Int32 { line.withCString { outbound_status_line_code($0, strlen($0)) } }
        XCTAssertEqual(code("HTTP/1.1 200 OK\r\n"), 200)
        XCTAssertEqual(code("HTTP/2 204 \r\n"), 204)
        XCTAssertEqual(code("HTTP/1.0 503 Service Unavailable\r\n"), 503)
        XCTAssertEqual(code("HTTP/1.1 100 Continue\r\n"), 100)
        XCTAssertEqual(code("X-Filler: HTTP/1.1 200\r\n"), 0)
        XCTAssertEqual(code("Content-Length: 0\r\n"), 0)
        XCTAssertEqual(code("HTTP/1.1 2x0 OK\r\n"), 0)
        XCTAssertEqual(code("\r\n"), 0)
    }

    func testAResolveFailureIsRetried() {
        let job = Job(id: "j", clientId: "c", url: TargetURL(scheme: "http", host: "h", port: 80, path: "/", query: nil,
                                                             absoluteString: "http://h/"))
        let policy = RetryPolicy(settings: RetrySettings(maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1000), jitter: NoJitter())
        let result = AttemptResult.transportError(CurlTransfer.classify(CURLE_COULDNT_RESOLVE_HOST))
        XCTAssertEqual(policy.outcome(of: result, attempt: 1, job: job, firstClaimedAt: 0, now: 0), .retry(delayMs: 100))
        XCTAssertEqual(policy.outcome(of: result, attempt: 3, job: job, firstClaimedAt: 0, now: 0), .failed(.retriesExhausted))
    }

    /// Only the fixed words of OpenSSL's alert name are taken from libcurl's error text, which
    /// can name the host and is never logged.
    func testATLSAlertIsReadFromOpenSSLsReasonTextOnly() {
        XCTAssertEqual(CurlTransfer.alertWords(in: "OpenSSL SSL_read: error:0A00045C:SSL routines::tlsv13 alert certificate required, errno 0"),
                       "certificate required")
        XCTAssertEqual(CurlTransfer.alertWords(in: "OpenSSL SSL_write: error:0A000410:SSL routines::sslv3 alert handshake failure, errno 0"),
                       "handshake failure")
        XCTAssertNil(CurlTransfer.alertWords(in: "Recv failure: Connection reset by peer"))
        XCTAssertNil(CurlTransfer.alertWords(in: "alert Evil.Example.com:443, errno 0"), "anything but lowercase words is not taken")
        XCTAssertNil(CurlTransfer.alertWords(in: "alert , errno 0"))
        XCTAssertNil(CurlTransfer.alertWords(in: ""))

        let error = CurlTransfer.classify(CURLE_RECV_ERROR, tlsAlert: "certificate required")
        XCTAssertEqual(error.kind, .tls)
        XCTAssertEqual(error.description, "tls: Failure when receiving data from the peer (the server sent the TLS alert 'certificate required')")
    }

    func testTheErrorTextNamesTheClassAndNeverTheURL() {
        let error = CurlTransfer.classify(CURLE_COULDNT_RESOLVE_HOST)
        XCTAssertTrue(error.description.hasPrefix("dns: "), error.description)
        XCTAssertFalse(error.description.contains("http"))
    }
}
