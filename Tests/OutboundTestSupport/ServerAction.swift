/// What `LoopbackHTTPServer` does with a request after recording it.
public enum ServerAction: Sendable {
    /// Answer with `status`, the given header fields (in order) and `body`. The server adds
    /// `Content-Length` unless the headers carry one, and sends no body for 1xx, 204 and 304
    /// or to a HEAD request.
    case respond(status: Int, headers: [HTTPHeaderField] = [], body: String = "")
    /// Sleep `milliseconds`, then answer like `.respond` with an empty body. If the server is
    /// stopped during the sleep, the connection is closed without an answer.
    case respondAfter(milliseconds: Int, status: Int, headers: [HTTPHeaderField] = [])
    /// Read the whole request, then close the connection (FIN) without answering
    /// (curl reports error 52, "Empty reply from server").
    case closeWithoutResponse
    /// Read the whole request, then close with `SO_LINGER {1, 0}` so the peer gets a RST
    /// (curl reports error 56, "Recv failure: Connection reset by peer").
    case reset
    /// Send `HTTP/1.1 200 OK` with `Content-Length: 100` and only 10 body bytes, then close
    /// (curl reports error 18, "transfer closed with outstanding read data remaining").
    case truncatedResponse
    /// Send a 200 status line and headers with `Content-Length: 10` at once, then the body one
    /// byte every `byteIntervalMs`: a response whose body trickles in past a client's timeout.
    case slowBody(byteIntervalMs: Int)
    /// Send `status` with a chunked body that never ends, until the client goes away.
    case endlessBody(status: Int)
    /// Send `status` with about `bytes` of header fields (1 KB lines) and an empty body.
    case hugeHeaders(status: Int, bytes: Int)
    /// Send `status` with `Content-Length: 1000` and 10 body bytes, then reset (`SO_LINGER {1, 0}`).
    case resetMidBody(status: Int)
}
