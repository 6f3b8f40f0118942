import Glibc

/// Names for moves that must never overwrite: a job arriving under the name of one already
/// in `delivered/` (say) gets a suffixed name instead of replacing it. Nothing is lost.
///
/// The suffix is `~N`, a character no job id may contain, so the job's default id (its file
/// name) and with it the Idempotency-Key stay the same: `JobDecoder` drops the suffix.
public enum SpoolMover {
    /// Separates a name clash's counter from the original stem.
    public static let clashMarker: Character = "~"

    /// `name` if nothing in `folder` has it (nor its `.reason` sidecar), else
    /// `stem~<n>.json` for the first free n.
    public static func freeName(for name: String, in folder: String) throws -> String {
        if isFree(name, in: folder) { return name }
        let stem = originalStem(of: name)
        for suffix in 1...10_000 {
            let candidate = "\(stem)\(clashMarker)\(suffix).json"
            if isFree(candidate, in: folder) { return candidate }
        }
        throw SystemError("find a free name for", path: "\(folder)/\(name)", code: EEXIST)
    }

    /// The file name without `.json` and without a clash suffix `~N`.
    public static func originalStem(of name: String) -> String {
        let stem = name.hasSuffix(".json") ? name.dropLast(5) : Substring(name)
        if let marker = stem.lastIndex(of: clashMarker),
           stem[stem.index(after: marker)...].allSatisfy(\.isASCIIDigitCharacter),
           stem.index(after: marker) != stem.endIndex {
            return String(stem[..<marker])
        }
        return String(stem)
    }

    private static func isFree(_ name: String, in folder: String) -> Bool {
        FileSystem.kind(of: "\(folder)/\(name)") == .missing && FileSystem.kind(of: "\(folder)/\(name).reason") == .missing
    }
}

extension Character {
    var isASCIIDigitCharacter: Bool { isASCII && isNumber }
}
