import Glibc

/// Names for moves that must never overwrite: a job arriving under the name of one already
/// in `delivered/` (say) gets a suffixed name instead of replacing it. Nothing is lost.
///
/// The suffix is `~N`, a character no job id may contain, so the job's default id (its file
/// name) and with it the Idempotency-Key stay the same: `JobDecoder` drops the suffix.
public enum SpoolMover {
    /// Separates a name clash's counter from the original stem.
    public static let clashMarker: Character = "~"

    /// `name` if nothing in `folder` has it (nor its `.reason` sidecar), else a free
    /// `stem~<n>.json`: the first free n while the taken ones run from 1 without a gap, which is
    /// how they are made. `alsoFree` may rule out more names (a retry's name must not be
    /// another job's in `.state/`); an error it throws ends the search.
    ///
    /// A name that upstream reuses for every job gathers one `~N` name per job. The search
    /// therefore doubles n until it finds a free name, then halves the gap back (`ClashSuffix`):
    /// about 2 log2(N) looks for N names taken, not N, and no limit a busy name could reach.
    public static func freeName(for name: String, in folder: String,
                                alsoFree: (String) throws -> Bool = { _ in true }) throws -> String {
        func isFree(_ candidate: String) throws -> Bool { try Self.isFree(candidate, in: folder) && alsoFree(candidate) }
        if fits(name), try isFree(name) { return name }
        let stem = originalStem(of: name)
        func candidate(_ suffix: Int) -> String {
            // Shorten the stem when the name and its `.reason` would not fit in 255 bytes.
            let tail = "\(clashMarker)\(suffix).json"
            let room = maxNameBytes - ".reason".utf8.count - tail.utf8.count
            return "\(stem.truncatedToUTF8Bytes(room))\(tail)"
        }
        guard let suffix = try ClashSuffix.firstFree(isFree: { try isFree(candidate($0)) }) else {
            throw SystemError("find a free name for", path: "\(folder)/\(name)", code: EEXIST)
        }
        return candidate(suffix)
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

/// Finds a free clash suffix among 1, 2, 3, ... by doubling, then halving the gap: the first free
/// one when the taken suffixes run from 1 without a gap, and always a free one.
enum ClashSuffix {
    /// The largest suffix tried: 2^40 names are more than any folder holds.
    static let limit = 1 << 40

    /// A suffix `isFree` says yes to, or nil when none up to `limit` is.
    static func firstFree(isFree: (Int) throws -> Bool) throws -> Int? {
        if try isFree(1) { return 1 }
        var taken = 1  // known taken
        var free = 2   // to be tried
        while try !isFree(free) {
            guard free < limit else { return nil }
            taken = free
            free = min(free * 2, limit)
        }
        // taken < free, `free` is free: narrow down to the first free one after a taken one.
        while free - taken > 1 {
            let middle = taken + (free - taken) / 2
            if try isFree(middle) { free = middle } else { taken = middle }
        }
        return free
    }
}
