import Glibc

/// Names for moves that must never overwrite: a job arriving under the name of one already
/// in `delivered/` (say) gets a suffixed name instead of replacing it. Nothing is lost.
public enum SpoolMover {
    /// `name` if nothing in `folder` has it (nor its `.reason` sidecar), else
    /// `stem.<n>.json` for the first free n.
    public static func freeName(for name: String, in folder: String) throws -> String {
        if isFree(name, in: folder) { return name }
        let stem = name.hasSuffix(".json") ? String(name.dropLast(5)) : name
        for suffix in 1...10_000 {
            let candidate = "\(stem).\(suffix).json"
            if isFree(candidate, in: folder) { return candidate }
        }
        throw SystemError("find a free name for", path: "\(folder)/\(name)", code: EEXIST)
    }

    private static func isFree(_ name: String, in folder: String) -> Bool {
        FileSystem.kind(of: "\(folder)/\(name)") == .missing && FileSystem.kind(of: "\(folder)/\(name).reason") == .missing
    }
}
