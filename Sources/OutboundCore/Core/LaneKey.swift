/// A lane (contract 14): the jobs of one client ID that share an `orderingKey`. Jobs of a lane
/// are sent one at a time, in byte-wise file-name order.
public struct LaneKey: Hashable, Sendable, CustomStringConvertible {
    public let clientId: String
    public let orderingKey: String

    public init(clientId: String, orderingKey: String) {
        self.clientId = clientId
        self.orderingKey = orderingKey
    }

    /// The lane of `job`, or nil for a job without `orderingKey` (it never waits for a lane).
    public init?(_ job: Job) {
        guard let key = job.orderingKey else { return nil }
        self.init(clientId: job.clientId, orderingKey: key)
    }

    /// A file-name-safe identity: the hex SHA-256 of client ID, NUL, ordering key (both may
    /// hold any character, and an ordering key is often a patient identifier).
    public var hash: String { SHA256.hex(Array(clientId.utf8) + [0] + Array(orderingKey.utf8)) }

    public var description: String { "client \(clientId), orderingKey \(orderingKey)" }
}
