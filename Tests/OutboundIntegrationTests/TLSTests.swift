import Foundation
import OutboundTestSupport
import XCTest

/// Contract sections 4, 5 and 7 over HTTPS: peers are verified (chain against `tls.caFile`,
/// host name against the certificate), a failed handshake is a retryable TLS error, and a
/// client record's `tls.certFile`/`tls.keyFile` is presented on that client's calls only.
///
/// Every test makes its own PKI with the `openssl` CLI in the sandbox's `Config/certs/` and
/// runs a python3 HTTPS server on 127.0.0.1 (see `TLSTestServer`). Without openssl or python3
/// the tests fail in set-up with a message saying so.
final class TLSTests: IntegrationTestCase {
    private var pki: TestPKI!
    private var serverCA: TestPKI.Authority!
    private var servers: [TLSTestServer] = []

    /// Two attempts 50 ms apart: enough to see a retry, quick to exhaust.
    private let retry: [String: Any] = ["maxAttempts": 2, "baseDelayMs": 50, "maxDelayMs": 400, "maxAgeSeconds": 3600]
    /// The client record that presents a certificate in the mutual-TLS test.
    private let certifiedClient = "3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a"

    override func setUpWithError() throws {
        try super.setUpWithError()
        sandbox = try SpoolSandbox(name: "outbound-tls")
        pki = try TestPKI(folder: sandbox.config.appendingPathComponent("certs"))
        serverCA = try pki.makeAuthority("server-ca", commonName: "Outbound Test Server CA")
    }

    override func tearDown() {
        for server in servers { server.stop() }
        servers = []
        pki = nil
        serverCA = nil
        super.tearDown()
    }

    // MARK: helpers

    /// A server certificate from the test CA; the good one is valid for 127.0.0.1 and localhost.
    private func serverCertificate(_ name: String = "server", subjectAltNames: [String] = ["IP:127.0.0.1", "DNS:localhost"],
                                   expired: Bool = false) throws -> TestPKI.Issued {
        try pki.issue(name, by: serverCA, commonName: subjectAltNames.first.map { String($0.split(separator: ":")[1]) } ?? name,
                      subjectAltNames: subjectAltNames, usage: .server, expired: expired)
    }

    /// `name` tells apart the logs of two servers in one test.
    private func startServer(_ issued: TestPKI.Issued, clientCA: URL? = nil, name: String = "server") throws -> TLSTestServer {
        let server = try TLSTestServer(folder: sandbox.root.appendingPathComponent("tls-server"), certificate: issued.certificate,
                                       key: issued.key, clientCA: clientCA, name: name)
        servers.append(server)
        return server
    }

    /// `outbound.json` with quick retries and, if given, `tls.caFile` (as written: relative
    /// paths are taken from the config folder).
    private func writeSettings(caFile: String?, extra: [String: Any] = [:]) throws {
        var settings: [String: Any] = ["retry": retry]
        if let caFile { settings["tls"] = ["caFile": caFile] }
        for (key, value) in extra { settings[key] = value }
        try sandbox.writeSettings(settings)
    }

    private func endpoint(_ server: TLSTestServer) -> String { "\(server.baseURL)/hooks/" }

    /// How a rejection by the client looks from the server's side.
    private enum ServerSees {
        /// The chain did not verify: libcurl (OpenSSL) aborts the handshake with an alert
        /// whose name contains this text (e.g. UNKNOWN_CA, CERTIFICATE_EXPIRED), which shows
        /// the certificate was refused for the intended reason.
        case failedHandshake(alert: String)
        /// The host name did not match: libcurl checks it after the handshake has completed,
        /// then hangs up without sending a byte of the request.
        case hangUpAfterHandshake
    }

    /// Asserts the job failed after both attempts with a TLS error, and that the server never
    /// got a request but did see both attempts rejected.
    ///
    /// `why` is the reason the audit's `error` must give in its parentheses: OpenSSL's text
    /// for the verification result, never libcurl's error buffer (which names the host).
    private func assertRejectedAtHandshake(_ name: String, job: String, server: TLSTestServer, serverSees: ServerSees,
                                           why: String, file: StaticString = #filePath, line: UInt = #line) throws {
        assertJob(name, isIn: "failed", file: file, line: line)
        let sidecar = try XCTUnwrap(sandbox.reason(of: name, in: "failed"), file: file, line: line)
        XCTAssertEqual(sidecar["reason"] as? String, "retries_exhausted", "\(sidecar)", file: file, line: line)
        XCTAssertEqual(sidecar["attempts"] as? Int, 2, file: file, line: line)
        XCTAssertNil(sidecar["status"], "no HTTP response over a rejected handshake", file: file, line: line)
        XCTAssertTrue((sidecar["error"] as? String ?? "").hasPrefix("tls: "), "sidecar error: \(sidecar)", file: file, line: line)

        let deferred = assertAudit("deferred", job: job, count: 1, file: file, line: line)
        XCTAssertEqual(deferred.first?["attempt"] as? Int, 1, file: file, line: line)
        XCTAssertTrue((deferred.first?["error"] as? String ?? "").hasPrefix("tls: "), "deferred: \(deferred)", file: file, line: line)
        let failed = assertAudit("failed", job: job, file: file, line: line)
        XCTAssertEqual(failed.first?["reason"] as? String, "retries_exhausted", file: file, line: line)
        XCTAssertEqual(failed.first?["attempt"] as? Int, 2, file: file, line: line)
        XCTAssertNil(failed.first?["status"], file: file, line: line)
        XCTAssertTrue((failed.first?["error"] as? String ?? "").hasPrefix("tls: "), "failed: \(failed)", file: file, line: line)
        for error in [sidecar["error"], deferred.first?["error"], failed.first?["error"]].map({ $0 as? String ?? "" }) {
            XCTAssertTrue(error.hasSuffix("(\(why))"), "the error says why: \(error)", file: file, line: line)
            XCTAssertFalse(error.contains("127.0.0.1") || error.contains("wrong.example"), "no host in: \(error)", file: file, line: line)
        }
        assertAudit("delivered", job: job, count: 0, file: file, line: line)

        let seen: () -> Int = {
            switch serverSees {
            case .failedHandshake: server.handshakeFailures.count
            case .hangUpAfterHandshake: server.connectionsWithoutRequest.count
            }
        }
        XCTAssertTrue(SpoolSandbox.waitUntil(timeout: 5) { seen() == 2 },
                      "the server should have seen both attempts turned away (\(serverSees)): \(server.events) \(server.standardError)",
                      file: file, line: line)
        if case .failedHandshake(let alert) = serverSees {
            XCTAssertTrue(server.handshakeFailures.allSatisfy { $0.contains(alert) }, "\(server.handshakeFailures)", file: file, line: line)
        }
        XCTAssertEqual(server.requests.count, 0, "no request may pass a rejected handshake", file: file, line: line)
    }

    // MARK: server verification

    func testDeliversWhenTheCAFileTrustsTheServer() throws {
        let server = try startServer(try serverCertificate())
        try writeSettings(caFile: "certs/server-ca/ca.pem")  // relative to the config folder
        try sandbox.writeClients(endpoint: endpoint(server))
        try sandbox.drop("tls-ok.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/adt/admit", extra: ["id": "tls-ok"]))

        let result = try drain()
        XCTAssertTrue(result.standardOutput.contains("delivered=1 failed=0"), result.standardOutput)
        assertJob("tls-ok.json", isIn: "delivered")
        let delivered = assertAudit("delivered", job: "tls-ok").first
        XCTAssertEqual(delivered?["status"] as? Int, 204)
        XCTAssertEqual(delivered?["attempt"] as? Int, 1)
        XCTAssertEqual(delivered?["url"] as? String, "\(server.baseURL)/hooks/adt/admit")

        let requests = server.requests
        XCTAssertEqual(requests.count, 1, "\(server.events)")
        XCTAssertEqual(requests.first?.method, "POST")
        XCTAssertEqual(requests.first?.path, "/hooks/adt/admit")
        XCTAssertEqual(requests.first?.header("Epic-Client-ID"), SpoolSandbox.activeClient)
        XCTAssertEqual(requests.first?.header("Idempotency-Key"), "tls-ok")
        XCTAssertEqual(requests.first?.bodyBytes, "{\"event\":\"A01\"}".utf8.count)
        XCTAssertNil(requests.first?.clientCertificate, "no client certificate configured")
        XCTAssertEqual(server.handshakeFailures, [])
    }

    func testWithoutTheCAFileTheServerIsNotTrustedRetriedThenFailed() throws {
        let server = try startServer(try serverCertificate())
        try writeSettings(caFile: nil)  // the system store, which does not hold the test CA
        try sandbox.writeClients(endpoint: endpoint(server))
        try sandbox.drop("no-ca.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/adt/admit", extra: ["id": "no-ca"]))

        let result = try drain()
        XCTAssertTrue(result.standardOutput.contains("delivered=0 failed=1"), result.standardOutput)
        XCTAssertTrue(result.standardOutput.contains("retries=1"), result.standardOutput)
        try assertRejectedAtHandshake("no-ca.json", job: "no-ca", server: server, serverSees: .failedHandshake(alert: "UNKNOWN_CA"),
                                      why: "unable to get local issuer certificate")
    }

    /// `tls.caFile` replaces the machine's trusted certificates, not adds to them. The machine's
    /// are played by a folder trusting the server's CA, which the binary finds where
    /// libcurl's built-in ones are (Debian's libcurl: the bundle and the hashed folder both in
    /// /etc/ssl/certs; fault.c sends its opens there). Without a CA file the server is trusted
    /// through that folder, which shows the stand-in works; with a CA file of another CA it is
    /// not: before the CA file cleared libcurl's folder (CURLOPT_CAPATH), OpenSSL still found
    /// the server's CA there and the job was delivered.
    func testTheCAFileReplacesTheSystemsTrustedCertificates() throws {
        let certificate = try serverCertificate()
        let system = try FaultLibrary.trusting(try pki.systemStyleFolder("system-certs", trusting: serverCA),
                                               asSystemFolder: "/etc/ssl/certs")

        let control = try startServer(certificate, name: "control")
        try writeSettings(caFile: nil)
        try sandbox.writeClients(endpoint: endpoint(control))
        try sandbox.drop("system.json", job: SpoolSandbox.job(url: "\(control.baseURL)/hooks/adt/admit", extra: ["id": "system"]))
        let trusted = try drain(environment: system)
        XCTAssertTrue(trusted.standardOutput.contains("delivered=1 failed=0"), "the stand-in store trusts the server: \(trusted.standardOutput)")
        assertJob("system.json", isIn: "delivered")
        XCTAssertEqual(control.requests.count, 1, "\(control.events)")

        let server = try startServer(certificate)
        let otherCA = try pki.makeAuthority("other-ca", commonName: "Outbound Test Other CA")
        try writeSettings(caFile: otherCA.certificate.path)
        try sandbox.writeClients(endpoint: endpoint(server))
        try sandbox.drop("other-ca.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/adt/admit", extra: ["id": "other-ca"]))
        let result = try drain(environment: system)
        XCTAssertTrue(result.standardOutput.contains("delivered=0 failed=1"), result.standardOutput)
        try assertRejectedAtHandshake("other-ca.json", job: "other-ca", server: server, serverSees: .failedHandshake(alert: "UNKNOWN_CA"),
                                      why: "unable to get local issuer certificate")
    }

    /// A destination's first connection makes a full handshake; the ones opened after its
    /// first answer resume that session (one session cache for the engine's handles, and the
    /// warm-up that holds the others back until a session exists: `SessionWarmUp`). Either
    /// part missing makes every connection a full handshake.
    func testConnectionsOpenedAfterTheFirstAnswerResumeItsTLSSession() throws {
        let server = try startServer(try serverCertificate())
        try writeSettings(caFile: serverCA.certificate.path, extra: ["concurrency": 4, "perHostConcurrency": 4])
        try sandbox.writeClients(endpoint: endpoint(server))
        for index in 1...12 {
            try sandbox.drop("resume-\(index).json",
                             job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/adt/\(index)", extra: ["id": "resume-\(index)"]))
        }

        let result = try drain()
        XCTAssertTrue(result.standardOutput.contains("delivered=12 failed=0"), result.standardOutput)
        let requests = server.requests
        XCTAssertEqual(requests.count, 12, "\(server.events)")
        let connections = Dictionary(grouping: requests, by: \.connection)
        XCTAssertGreaterThan(connections.count, 1, "the share of four opens more connections than the first: \(server.events)")
        let first = try XCTUnwrap(connections.keys.min())
        XCTAssertEqual(requests.first?.connection, first, "the first answer comes over the first connection")
        XCTAssertTrue(connections[first]!.allSatisfy { !$0.sessionReused }, "the first connection has no session to resume")
        let seen = requests.map { "connection \($0.connection) \($0.sessionReused ? "resumed" : "full handshake")" }
        for (number, over) in connections where number != first {
            XCTAssertTrue(over.allSatisfy(\.sessionReused), "connection \(number) made a full handshake: \(seen)")
        }
        XCTAssertEqual(server.handshakeFailures, [])
    }

    func testExpiredCertificateIsNeverAccepted() throws {
        let expired = try serverCertificate("expired", expired: true)
        // The premise: signed by the trusted CA, right host, only its dates are wrong.
        let check = try pki.verify(expired.certificate, against: serverCA, ip: "127.0.0.1")
        XCTAssertFalse(check.ok)
        XCTAssertTrue(check.output.contains("certificate has expired"), check.output)

        let server = try startServer(expired)
        try writeSettings(caFile: serverCA.certificate.path)
        try sandbox.writeClients(endpoint: endpoint(server))
        try sandbox.drop("expired.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/adt/admit", extra: ["id": "expired"]))

        let result = try drain()
        XCTAssertTrue(result.standardOutput.contains("delivered=0 failed=1"), result.standardOutput)
        try assertRejectedAtHandshake("expired.json", job: "expired", server: server,
                                      serverSees: .failedHandshake(alert: "CERTIFICATE_EXPIRED"), why: "certificate has expired")
    }

    func testCertificateForAnotherHostIsNeverAccepted() throws {
        let wrongHost = try serverCertificate("wrong-host", subjectAltNames: ["DNS:wrong.example"])
        // The premise: a valid chain to the trusted CA, but not for 127.0.0.1.
        XCTAssertTrue(try pki.verify(wrongHost.certificate, against: serverCA).ok)
        XCTAssertFalse(try pki.verify(wrongHost.certificate, against: serverCA, ip: "127.0.0.1").ok)

        let server = try startServer(wrongHost)
        try writeSettings(caFile: serverCA.certificate.path)
        try sandbox.writeClients(endpoint: endpoint(server))
        try sandbox.drop("wrong-host.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/adt/admit", extra: ["id": "wrong-host"]))

        let result = try drain()
        XCTAssertTrue(result.standardOutput.contains("delivered=0 failed=1"), result.standardOutput)
        try assertRejectedAtHandshake("wrong-host.json", job: "wrong-host", server: server, serverSees: .hangUpAfterHandshake,
                                      why: "certificate not valid for this host name")
    }

    // MARK: mutual TLS

    /// One drain, one server that requires a client certificate, two client records at the
    /// same endpoint: the one with `tls.certFile`/`tls.keyFile` gets through, the one without
    /// is turned away by the server on every attempt. One transfer at a time and three
    /// attempts 50 and 100 ms apart, so that the certified client's kept-alive connection is
    /// idle in the pool when the other client's retries go out (and must not be reused), and
    /// its TLS session is in the engine's one session cache (and must not be resumed: under
    /// TLS 1.3 a resumed session keeps the certificate of the handshake that made it).
    func testClientCertificateIsPresentedOnItsOwnClientsCallsOnly() throws {
        let clientCA = try pki.makeAuthority("client-ca", commonName: "Outbound Test Client CA")
        _ = try pki.issue("acme-client", by: clientCA, commonName: "acme-client", usage: .client)
        let server = try startServer(try serverCertificate(), clientCA: clientCA.certificate)
        try writeSettings(caFile: serverCA.certificate.path, extra: [
            "concurrency": 1, "perHostConcurrency": 1,
            "retry": ["maxAttempts": 3, "baseDelayMs": 50, "maxDelayMs": 400, "maxAgeSeconds": 3600],
        ])
        try sandbox.writeClients(endpoint: endpoint(server), extra: [[
            "clientId": certifiedClient, "application": "Acme mTLS", "environment": "non-production", "status": "active",
            "endpoints": [endpoint(server)],
            "tls": ["certFile": "certs/acme-client.pem", "keyFile": "certs/acme-client.key"],  // relative to Config/
        ]])

        let withCertificate = ["a-with-cert-1", "c-with-cert-2", "e-with-cert-3"]
        let withoutCertificate = ["b-without-cert-1", "d-without-cert-2"]
        for id in withCertificate {
            try sandbox.drop("\(id).json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/\(id)",
                                                               extra: ["id": id, "clientId": certifiedClient]))
        }
        for id in withoutCertificate {
            try sandbox.drop("\(id).json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/\(id)", extra: ["id": id]))
        }

        let result = try drain()
        XCTAssertTrue(result.standardOutput.contains("delivered=3 failed=2"), result.standardOutput)

        // The certified client: delivered, and the server verified its certificate each time.
        var firstDelivery = "~"
        for id in withCertificate {
            assertJob("\(id).json", isIn: "delivered")
            let delivered = assertAudit("delivered", job: id).first
            XCTAssertEqual(delivered?["status"] as? Int, 204)
            XCTAssertEqual(delivered?["attempt"] as? Int, 1)
            firstDelivery = min(firstDelivery, delivered?["ts"] as? String ?? "~")
        }
        let requests = server.requests
        XCTAssertEqual(requests.map(\.path).sorted(), withCertificate.map { "/hooks/\($0)" }, "\(server.events)")
        for request in requests {
            XCTAssertEqual(request.header("Epic-Client-ID"), certifiedClient)
            XCTAssertEqual(request.clientCertificate, "acme-client", "the server verified the client's certificate")
        }

        // The other client: every attempt refused by the server, nothing of it got through.
        var lastAttempt = ""
        for id in withoutCertificate {
            assertJob("\(id).json", isIn: "failed")
            let sidecar = try XCTUnwrap(sandbox.reason(of: "\(id).json", in: "failed"))
            XCTAssertEqual(sidecar["reason"] as? String, "retries_exhausted", "\(sidecar)")
            XCTAssertEqual(sidecar["attempts"] as? Int, 3)
            XCTAssertNil(sidecar["status"], "the server never answered over HTTP: \(sidecar)")
            // TLS 1.3: the client completes its side of the handshake before the server checks
            // the (missing) certificate, so libcurl meets the server's alert as an error of the
            // connection. The alert's name, taken from OpenSSL's text, makes it a TLS error.
            for line in assertAudit("deferred", job: id, count: 2) + assertAudit("failed", job: id) {
                XCTAssertEqual(line["error"] as? String,
                               "tls: Failure when receiving data from the peer (the server sent the TLS alert 'certificate required')",
                               "\(line)")
                lastAttempt = max(lastAttempt, line["ts"] as? String ?? "")
            }
        }
        XCTAssertFalse(requests.contains { $0.header("Epic-Client-ID") == SpoolSandbox.activeClient },
                       "no request of the client without a certificate may reach the server")
        XCTAssertTrue(SpoolSandbox.waitUntil(timeout: 5) { server.handshakeFailures.count == 6 },
                      "each of the 6 attempts without a certificate is turned away at the handshake: "
                      + "\(server.events) \(server.standardError)")
        XCTAssertTrue(server.handshakeFailures.allSatisfy { $0.contains("PEER_DID_NOT_RETURN_A_CERTIFICATE") },
                      "\(server.handshakeFailures)")
        // The premise of "this client's calls only": some attempt without a certificate ended
        // after a certified delivery, i.e. while a connection with the certificate was pooled.
        XCTAssertGreaterThan(lastAttempt, firstDelivery, sandbox.auditText)
    }
}
