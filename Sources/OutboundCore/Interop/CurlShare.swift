import COutbound

/// One TLS session cache for the easy handles of one `TransferEngine` (libcurl's share
/// interface), so that a connection opened after another to the same destination resumes its
/// session instead of making a full handshake (`SessionWarmUp` says when). libcurl matches a
/// session to the host, port and TLS options it was made with, a client certificate
/// included. Used from the engine's thread only, so it needs no lock functions.
/// https://curl.se/libcurl/c/CURLSHOPT_SHARE.html
final class CurlShare {
    let handle: UnsafeMutableRawPointer

    /// libcurl must be loaded (`CurlMulti` loads it).
    init() throws(CurlSetupError) {
        guard let handle = curl_share_init() else { throw CurlSetupError(option: "curl_share_init", message: "out of memory") }
        self.handle = handle
        let code = outbound_share_data(handle, CURL_LOCK_DATA_SSL_SESSION)
        guard code == CURLSHE_OK else {
            curl_share_cleanup(handle)
            throw CurlSetupError(option: "CURLSHOPT_SHARE", message: String(cString: curl_share_strerror(code)))
        }
    }

    /// Runs after the last handle set to it is gone: each `CurlTransfer` holds it.
    deinit {
        curl_share_cleanup(handle)
    }
}
