/// A set of file names compared by their bytes, with the byte-wise earliest at hand. Swift's
/// `String` equality is canonical equivalence, and two names that are only canonically
/// equivalent are two files.
///
/// Two uses, both for ordered lanes (contract 14): the intake's files left in `incoming/`
/// unread (their claim failed, a namesake was in the claim area, they could not be read or
/// were too young to judge; each may be an earlier job of any lane, so a lane job named after
/// one waits until it has been read), and a lane's jobs parked in their folder
/// (`ParkedNames`). Only the earliest name matters to either.
struct NameSet {
    private var names: [[UInt8]: String] = [:]
    /// The byte-wise earliest of the names.
    private(set) var earliest: String?

    var isEmpty: Bool { names.isEmpty }

    mutating func insert(_ name: String) {
        guard names.updateValue(name, forKey: Array(name.utf8)) == nil else { return }
        if earliest.map({ name.bytePrecedes($0) }) ?? true { earliest = name }
    }

    /// Removes `name`; true when it was there.
    @discardableResult
    mutating func remove(_ name: String) -> Bool {
        guard !names.isEmpty else { return false }   // the usual case, once per claim
        let bytes = Array(name.utf8)
        guard names.removeValue(forKey: bytes) != nil else { return false }
        if let earliest, earliest.utf8.elementsEqual(bytes) { self.earliest = names.values.min { $0.bytePrecedes($1) } }
        return true
    }

    mutating func removeAll() {
        names.removeAll()
        earliest = nil
    }

    /// The earliest name, when it sorts before `name`.
    func earliest(before name: String) -> String? {
        guard let earliest, earliest.bytePrecedes(name) else { return nil }
        return earliest
    }
}
