import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One request the HTTPS test server received (after a completed TLS handshake).
public struct TLSServerRequest {
    public let method: String
    /// The request-target as received, e.g. "/hooks/adt/admit".
    public let path: String
    /// Header fields, names lowercased.
    public let headers: [String: String]
    public let bodyBytes: Int
    /// The common name of the client certificate the server verified on this connection
    /// (only when the server requires client certificates).
    public let clientCertificate: String?
    /// 1, 2, 3… in the order the server accepted TCP connections.
    public let connection: Int
    /// Whether this connection's TLS handshake resumed an earlier session (a ticket the
    /// server had issued) instead of a full handshake.
    public let sessionReused: Bool

    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// Why the HTTPS test server could not start.
public struct TLSTestServerError: Error, CustomStringConvertible {
    public let description: String
}

/// An HTTPS/1.1 server on 127.0.0.1 for TLS tests: a small python3 script (ssl + http.server)
/// run as a child process. It listens on a port the kernel picks, answers `204` to every
/// request, and appends to a log file the test reads back one JSON line per request (method,
/// path, headers, client certificate), one per failed TLS handshake and one per connection that
/// ended without a request. With `clientCA`, it requires a client certificate signed by that CA
/// (mutual TLS).
///
/// `stop()` (also run by `deinit`) terminates the child and waits for it.
public final class TLSTestServer {
    public let port: Int
    public var baseURL: String { "https://127.0.0.1:\(port)" }
    private let process = Process()
    private let log: URL
    private let errors: URL

    /// Starts the server with `certificate`/`key`; its script, port file and logs go in `folder`.
    public init(folder: URL, certificate: URL, key: URL, clientCA: URL? = nil, name: String = "server") throws {
        guard let python = TestPKI.findExecutable("python3") else {
            throw TLSTestServerError(description: "the TLS tests need python3 on PATH for their HTTPS test server")
        }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let script = folder.appendingPathComponent("tls_test_server.py")
        try Data(Self.script.utf8).write(to: script)
        log = folder.appendingPathComponent("\(name).jsonl")
        errors = folder.appendingPathComponent("\(name).stderr")
        let portFile = folder.appendingPathComponent("\(name).port")
        try Data().write(to: log)
        try Data().write(to: errors)

        var arguments = ["-u", script.path, "--cert", certificate.path, "--key", key.path,
                         "--log", log.path, "--port-file", portFile.path]
        if let clientCA { arguments += ["--require-client-cert", clientCA.path] }
        process.executableURL = python
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()

        var port: Int?
        let deadline = Date().addingTimeInterval(15)
        while port == nil, process.isRunning, Date() < deadline {
            if let text = try? String(contentsOf: portFile, encoding: .utf8), text.hasSuffix("\n") {
                port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
            } else {
                usleep(20_000)
            }
        }
        guard let port else {
            let stderr = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
            throw TLSTestServerError(description: "the HTTPS test server did not start: \(stderr)")
        }
        self.port = port
    }

    deinit { stop() }

    public func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    /// Every line the server logged, parsed.
    public var events: [[String: Any]] {
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map { line in
            ((try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]) ?? [:]
        }
    }

    /// The requests received, in order.
    public var requests: [TLSServerRequest] {
        events.filter { $0["event"] as? String == "request" }.map { event in
            TLSServerRequest(method: event["method"] as? String ?? "", path: event["path"] as? String ?? "",
                             headers: event["headers"] as? [String: String] ?? [:], bodyBytes: event["bodyBytes"] as? Int ?? 0,
                             clientCertificate: event["clientCertificate"] as? String, connection: event["connection"] as? Int ?? 0,
                             sessionReused: event["sessionReused"] as? Bool ?? false)
        }
    }

    /// The error text of each TLS handshake the server saw fail, in order.
    public var handshakeFailures: [String] {
        events.filter { $0["event"] as? String == "handshake_failed" }.map { $0["error"] as? String ?? "" }
    }

    /// Connections whose TLS handshake succeeded on the server's side but that ended without
    /// a single request (the client hung up), by connection number.
    public var connectionsWithoutRequest: [Int] {
        events.filter { $0["event"] as? String == "no_request" }.map { $0["connection"] as? Int ?? 0 }
    }

    /// What the server wrote to stderr (tracebacks, if any).
    public var standardError: String {
        (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
    }

    static let script = #"""
        # HTTPS test server for Outbound's TLS tests. Written out and run by TLSTestServer.swift.
        import argparse, itertools, json, os, socket, socketserver, ssl, threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        parser = argparse.ArgumentParser()
        parser.add_argument("--cert", required=True)
        parser.add_argument("--key", required=True)
        parser.add_argument("--log", required=True, help="JSON Lines: one line per request or failed handshake")
        parser.add_argument("--port-file", required=True)
        parser.add_argument("--require-client-cert", metavar="CAFILE")
        args = parser.parse_args()

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
        if args.require_client_cert:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(cafile=args.require_client_cert)

        lock = threading.Lock()
        log = open(args.log, "a", encoding="utf-8")
        connections = itertools.count(1)

        def record(entry):
            with lock:
                log.write(json.dumps(entry, sort_keys=True) + "\n")
                log.flush()

        def linger(connection):
            # A lingering close, as web servers do: read what the client still sends (its
            # request, written as soon as its own side of a TLS 1.3 handshake was done) until
            # it hangs up, so that the alert just sent reaches it instead of a reset.
            try:
                connection.settimeout(2)
                while socket.socket.recv(connection, 65536):
                    pass
            except OSError:
                pass
            finally:
                connection.close()

        def common_name(certificate):
            for rdn in (certificate or {}).get("subject", ()):
                for key, value in rdn:
                    if key == "commonName":
                        return value
            return None

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *arguments):
                pass

            def answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length > 0 else b""
                record({"event": "request", "method": self.command, "path": self.path,
                        "headers": {name.lower(): value for name, value in self.headers.items()},
                        "bodyBytes": len(body), "connection": self.connection_number,
                        "sessionReused": self.connection.session_reused,
                        "clientCertificate": common_name(self.connection.getpeercert())})
                self.requests += 1
                self.send_response(204)
                self.end_headers()

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = answer

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def server_bind(self):
                socketserver.TCPServer.server_bind(self)  # no reverse DNS lookup of 127.0.0.1
                self.server_name, self.server_port = self.server_address[:2]

            def finish_request(self, request, client_address):
                with lock:
                    number = next(connections)
                request.settimeout(30)
                connection = context.wrap_socket(request, server_side=True, do_handshake_on_connect=False)
                try:
                    connection.do_handshake()
                except (ssl.SSLError, OSError) as error:
                    record({"event": "handshake_failed", "connection": number, "error": str(error),
                            "reason": getattr(error, "reason", None)})
                    linger(connection)
                    return
                handler = Handler.__new__(Handler)
                handler.connection_number = number
                handler.requests = 0
                try:
                    Handler.__init__(handler, connection, client_address, self)
                except OSError as error:
                    record({"event": "connection_error", "connection": number, "error": str(error)})
                finally:
                    connection.close()
                if handler.requests == 0:
                    # The handshake succeeded here but the client sent nothing: e.g. libcurl,
                    # which checks the host name only after the handshake, hung up.
                    record({"event": "no_request", "connection": number})

        server = Server(("127.0.0.1", 0), Handler)
        with open(args.port_file + ".tmp", "w") as f:
            f.write("%d\n" % server.server_address[1])
        os.rename(args.port_file + ".tmp", args.port_file)
        server.serve_forever()
        """#
}
