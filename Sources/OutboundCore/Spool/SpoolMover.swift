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
    /// `stem~<n>.json` for the first free n. `alsoFree` may rule out more names (a retry's
    /// name must not be another job's in `.state/`); an error it throws ends the search.
    public static func freeName(for name: String, in folder: String,
                                alsoFree: (String) throws -> Bool = { _ in true }) throws -> String {
        func isFree(_ candidate: String) throws -> Bool { try Self.isFree(candidate, in: folder) && alsoFree(candidate) }
        if fits(name), try isFree(name) { return name }
        let stem = originalStem(of: name)
        for suffix in 1...10_000 {
            // Shorten the stem when the name and its `.reason` would not fit in 255 bytes.
            let tail = "\(clashMarker)\(suffix).json"
            let room = maxNameBytes - ".reason".utf8.count - tail.utf8.count
            let candidate = "\(stem.truncatedToUTF8Bytes(room))\(tail)"
            if try isFree(candidate) { return candidate }
        }
        throw SystemError("find a free name for", path: "\(folder)/\(name)", code: EEXIST)
    }

    /// Moves the file at `source` into `folder` as `name`, or under a free clash name, never
    /// replacing anything; returns the name it got.
    @discardableResult
    public static func move(_ source: String, named name: String, into folder: String) throws -> String {
        let target = try freeName(for: name, in: folder)
        try FileSystem.rename(source, to: "\(folder)/\(target)", replacing: false)
        return target
    }

    /// The longest file name a Linux file system takes, in bytes.
    static let maxNameBytes = 255

    /// Whether `name` and its `.reason` sidecar both fit.
    static func fits(_ name: String) -> Bool {
        name.utf8.count + ".reason".utf8.count <= maxNameBytes
    }

    /// The file name without `.json` and without a clash suffix `~N` (on bytes, like
    /// `Spool.isJobName`).
    public static func originalStem(of name: String) -> String {
        var name = name
        return name.withUTF8 { bytes in
            var end = bytes.count
            if end >= 5, bytes[(end - 5)...].elementsEqual(".json".utf8) { end -= 5 }
            var digitsStart = end
            while digitsStart > 0, (0x30...0x39).contains(bytes[digitsStart - 1]) { digitsStart -= 1 }
            if digitsStart < end, digitsStart > 0, bytes[digitsStart - 1] == UInt8(ascii: "~") { end = digitsStart - 1 }
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[..<end]), as: UTF8.self)
        }
    }

    private static func isFree(_ name: String, in folder: String) -> Bool {
        FileSystem.kind(of: "\(folder)/\(name)") == .missing && FileSystem.kind(of: "\(folder)/\(name).reason") == .missing
    }
}
