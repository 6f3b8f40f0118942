/// Builds the token request of contract section 12 as a `TransferRequest`: a form POST of
/// `grant_type=client_credentials` to the record's `tokenUrl`, authenticated by a signed
/// client assertion (RFC 7523 §2.2) or by HTTP Basic with the client secret (RFC 6749
/// §2.3.1). The response body is collected (it holds the token); redirects are never followed
/// (`CurlTransfer` turns them off for every transfer), so a 3xx is a refused token request.
public struct TokenRequestBuilder: Sendable {
    public static let assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

    public let settings: Settings

    public init(settings: Settings) {
        self.settings = settings
    }

    /// The token request for `client` (whose record has `auth`), made at `now`. Throws when no
    /// assertion can be signed; the failure is the token request's result.
    public func request(for client: ClientRecord, now: Double, jti: [UInt8]? = nil) throws(ClientAssertion.Failure) -> TransferRequest {
        guard let auth = client.auth else { preconditionFailure("a token request for a client without auth") }
        var form: [(String, String)] = [("grant_type", "client_credentials")]
        var lines = [
            "Content-Type: application/x-www-form-urlencoded",
            "Accept: application/json",
            RequestBuilder.userAgentLine,
            "Expect:",
        ]
        switch auth.credential {
        case .assertion(let key):
            let assertion = try ClientAssertion.make(key: key, clientId: client.clientId,
                                                     audience: auth.tokenURL.absoluteString, now: now, jti: jti)
            form.append(("client_assertion_type", Self.assertionType))
            form.append(("client_assertion", assertion))
        case .clientSecret(let secret):
            let pair = Self.formEncode(client.clientId) + ":" + Self.formEncode(secret.value)
            lines.append("Authorization: Basic " + Base64.encode(Array(pair.utf8)))
        }
        if let scope = auth.scope { form.append(("scope", scope)) }
        let body = form.map { Self.formEncode($0.0) + "=" + Self.formEncode($0.1) }.joined(separator: "&")
        return TransferRequest(
            url: auth.tokenURL.absoluteString, method: .post, headerLines: lines, body: Array(body.utf8),
            connectTimeoutMs: settings.connectTimeoutMs, timeoutMs: settings.timeoutMs,
            tls: TLSOptions(caFile: settings.caFile, certFile: client.certFile, keyFile: client.keyFile),
            collectsResponseBody: true)
    }

    /// application/x-www-form-urlencoded (WHATWG URL §5.2): `*-._` and alphanumerics as they
    /// are, space as `+`, every other byte of the UTF-8 as `%XX`.
    static func formEncode(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "*"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"):
                out.append(byte)
            case UInt8(ascii: " "):
                out.append(UInt8(ascii: "+"))
            default:
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
