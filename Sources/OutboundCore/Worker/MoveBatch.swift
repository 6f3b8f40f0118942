/// The moves waiting for the next commit: made by the filing thread once the commit has their
/// audit lines on disk.
struct MoveBatch {
    private var pending: [FileMove] = []

    var isEmpty: Bool { pending.isEmpty }

    mutating func add(_ move: FileMove) {
        pending.append(move)
    }

    mutating func take() -> [FileMove] {
        defer { pending.removeAll(keepingCapacity: true) }
        return pending
    }
}
