/// Files the intake left in `incoming/` without reading them: their claim failed, a namesake
/// was in the claim area, they could not be read (EIO, EMFILE...) or were too young to judge.
/// Each may be an earlier job of any ordered lane, so a lane job whose name sorts after one
/// of them waits until it has been read (contract 14: a lane's job is not sent before an
/// earlier one; section 2: a transient fault is no verdict, the file is read again later).
/// Jobs without `orderingKey` never wait. Only the byte-wise earliest name matters.
struct UnreadNames {
    /// By their bytes: Swift's `String` equality is canonical equivalence, and two names that
    /// are only canonically equivalent are two files.
    private var names: [[UInt8]: String] = [:]
    /// The byte-wise earliest of `names`.
    private(set) var earliest: String?

    var isEmpty: Bool { names.isEmpty }

    /// `name` was left unread in incoming/.
    mutating func insert(_ name: String) {
        guard names.updateValue(name, forKey: Array(name.utf8)) == nil else { return }
        if earliest.map({ name.bytePrecedes($0) }) ?? true { earliest = name }
    }

    /// `name` was claimed (it is about to be read) or is gone.
    mutating func remove(_ name: String) {
        guard !names.isEmpty else { return }   // the usual case, once per claim
        let bytes = Array(name.utf8)
        guard names.removeValue(forKey: bytes) != nil else { return }
        if let earliest, Array(earliest.utf8) == bytes { self.earliest = names.values.min { $0.bytePrecedes($1) } }
    }

    /// The unread name a lane job named `name` must wait for, if any.
    func blocking(laneJobNamed name: String) -> String? {
        guard let earliest, earliest.bytePrecedes(name) else { return nil }
        return earliest
    }
}
