/// A destination: a scheme, host and port (contract section 13), the unit a circuit breaker
/// judges. Two URLs on one host but different ports or schemes are different destinations: a
/// partner's TLS listener can be down while its plain one answers.
public struct Destination: Sendable, Hashable, CustomStringConvertible {
    public let scheme: String
    public let host: String
    public let port: Int

    public init(scheme: String, host: String, port: Int) {
        self.scheme = scheme
        self.host = host
        self.port = port
    }

    /// The destination a job's URL goes to.
    public init(_ url: TargetURL) {
        self.init(scheme: url.scheme, host: url.host, port: url.port)
    }

    /// "https://partner.example:443": the audit's `destination` field, with the port always
    /// written so that one destination has one spelling.
    public var description: String { "\(scheme)://\(host):\(port)" }
}
