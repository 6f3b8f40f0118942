/// The jobs of one ordered lane that were parked in their folder (behind a retrying head, or
/// behind other parked jobs) and have not come back yet. While any is away, a later name of
/// the lane that arrives must not go ahead of it: it is parked too, until the same time.
/// Forgotten `grace` seconds after they were due back, should one never come (an operator
/// moved it away). Pure: no I/O, no clock.
struct ParkedNames {
    private var names: [String] = []
    /// When the last of them is due back.
    private(set) var until = 0.0
    static let grace = 5.0

    var isEmpty: Bool { names.isEmpty }

    mutating func add(_ name: String, until due: Double) {
        if !names.contains(where: { $0.utf8.elementsEqual(name.utf8) }) { names.append(name) }
        until = max(until, due)
    }

    /// `name` was admitted to its lane again: no longer away.
    mutating func cameBack(_ name: String) {
        guard !names.isEmpty, let index = names.firstIndex(where: { $0.utf8.elementsEqual(name.utf8) }) else { return }
        names.remove(at: index)
    }

    /// Whether a parked job's name sorts before `name`: then `name` must wait for it.
    func holdsBack(_ name: String) -> Bool {
        names.contains { $0.bytePrecedes(name) }
    }

    mutating func forgetIfOverdue(now: Double) {
        if !names.isEmpty && now > until + Self.grace { names.removeAll() }
    }
}
