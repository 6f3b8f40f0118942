/// Blocked lanes on disk (contract 14): `.state/lanes/<hex SHA-256 of the lane>.blocked`,
/// one JSON object naming the lane and the job at fault, written when a lane's job ends in
/// failed/ or refused/ under `lanes.onFailure: block`. While it exists, the lane's jobs go to
/// hold/. `status` and `list` read it.
///
/// For the operator commands: `requeue` and `purge` of the job at fault call
/// `unblock(byJob:)` (or `unblock(_:)` with the job's lane) before `release` brings the held
/// jobs back; a requeued job at fault that arrives while its marker is still there also
/// unblocks its lane (so plain renames work too).
public struct LaneMarkers: Sendable {
    /// A blocked lane as read back.
    public struct Blocked: Sendable, Equatable {
        public let lane: LaneKey
        /// The file name of the job at fault.
        public let byJob: String
        public let at: Double?
    }

    public let folder: String

    public init(spool: Spool) {
        folder = Self.folder(spool)
    }

    static func folder(_ spool: Spool) -> String { "\(spool.stateDirectory)/lanes" }

    private func path(_ lane: LaneKey) -> String { "\(folder)/\(lane.hash).blocked" }

    /// Marks `lane` blocked by `byJob`, durably.
    public func block(_ lane: LaneKey, byJob: String, at: Double) throws {
        try FileSystem.createDirectory(folder)
        var writer = JSONObjectWriter()
        writer.add("clientId", lane.clientId)
        writer.add("orderingKey", lane.orderingKey)
        writer.add("job", byJob)
        writer.add("at", Timestamp.format(at))
        try FileSystem.writeAtomically(writer.finish() + [0x0A], to: path(lane))
        try FileSystem.syncDirectory(folder)
    }

    public func isBlocked(_ lane: LaneKey) -> Bool {
        FileSystem.kind(of: path(lane)) != .missing
    }

    /// Unblocks `lane`; true if it was blocked.
    @discardableResult
    public func unblock(_ lane: LaneKey) -> Bool {
        (try? FileSystem.remove(path(lane))) != nil
    }

    /// Unblocks every lane blocked by the job file `fileName`; returns them.
    @discardableResult
    public func unblock(byJob fileName: String) -> [LaneKey] {
        let lanes = all().filter { $0.byJob == fileName }.map(\.lane)
        for lane in lanes { unblock(lane) }
        return lanes
    }

    /// Every blocked lane, by client ID and ordering key.
    public func all() -> [Blocked] {
        let names = (try? DirectoryStream.names(in: folder)) ?? []
        var found: [Blocked] = []
        for name in names where name.hasSuffix(".blocked") {
            guard let bytes = try? FileSystem.readSmallFile("\(folder)/\(name)", limit: 64 << 10),
                  case .object(let members)? = try? JSONParser.parse(bytes) else { continue }
            var fields: [String: JSONValue] = [:]
            for member in members { fields[member.key] = member.value }
            guard case .string(let client)? = fields["clientId"], case .string(let key)? = fields["orderingKey"],
                  case .string(let job)? = fields["job"] else { continue }
            var at: Double?
            if case .string(let text)? = fields["at"] { at = Timestamp.parse(text) }
            found.append(Blocked(lane: LaneKey(clientId: client, orderingKey: key), byJob: job, at: at))
        }
        return found.sorted { $0.byJob.bytePrecedes($1.byJob) }
    }
}
