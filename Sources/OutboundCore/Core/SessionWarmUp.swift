/// A TLS destination gets one transfer until an attempt to it has ended; then the rest of its
/// share (`perHostConcurrency`) may open connections.
///
/// libcurl's handles share one TLS session cache (`CurlShare`), and a session is stored once
/// the first connection's server has sent its ticket, which comes with the first answer. The
/// connections opened after that resume the session: they skip the certificate chain's
/// parsing and verification on both sides, about 0.4 ms of the client's CPU each (64
/// connections: 25 ms, measured with `curl --parallel`, which waits the same way) and the
/// server's signature. Opening them all at once, before any session exists, makes every one a
/// full handshake. The cost is one round of the first transfer, once per destination per
/// process; plain-HTTP destinations do not wait.
struct SessionWarmUp: Equatable {
    /// Destinations (`host:port`) an attempt has ended for.
    private var warmed: Set<String> = []

    /// The most transfers to `key` that may be in flight: at most one to a TLS destination
    /// no attempt to which has ended yet, else `limit`.
    func limit(_ limit: Int, for key: String, tls: Bool) -> Int {
        tls && !warmed.contains(key) ? min(1, limit) : limit
    }

    /// An attempt to `key` ended, however: its server has answered, or failed to, once.
    mutating func attemptEnded(for key: String) {
        warmed.insert(key)
    }
}
