/// Checks the audit log's hash chain (contract section 10) line by line, as pure work over
/// bytes: the caller reads the files (plain or gzip, oldest first) and feeds their lines.
/// It stops at the first fault and names the line at fault and how it looks broken.
///
/// A line whose seq jumps ahead is only judged at the next line: if that one carries the
/// missing seq, the two were swapped; otherwise lines were deleted (or, at the start of a
/// file, a rotated file is missing).
public struct AuditChainVerifier {
    /// Where a line is: the file as named and the line number in it, from 1.
    public struct Location: Sendable, Equatable, CustomStringConvertible {
        public let file: String
        public let line: Int
        public var description: String { "\(file):\(line)" }
    }

    /// A known (seq, hash) pair the chain must pass through: the head in `.state/audit.head`
    /// or an `--anchor` kept elsewhere.
    public struct Checkpoint: Sendable {
        public let seq: Int
        public let sha256: [UInt8]
        /// Names it in messages ("the head in Outbox/.state/audit.head", "the anchor").
        public let source: String
        /// When false, a checkpoint older than the first line checked is let pass (a head
        /// behind the log after a crash); an anchor is always required to be found.
        public let mustBeCovered: Bool

        public init(seq: Int, sha256: [UInt8], source: String, mustBeCovered: Bool) {
            self.seq = seq
            self.sha256 = sha256
            self.source = source
            self.mustBeCovered = mustBeCovered
        }
    }

    /// The first fault found.
    public enum Fault: Error, Sendable, Equatable, CustomStringConvertible {
        case notChained(Location)
        case edited(Location, seq: Int, next: Location)
        case firstLineHasPrev(Location)
        case missing(fromSeq: Int, toSeq: Int, before: Location, previousFile: String?)
        case swapped(Location, Location)
        case repeated(Location, seq: Int, previous: Location)
        case incomplete(Location)
        case checkpointMismatch(Location, seq: Int, source: String)
        case truncated(lastSeq: Int, last: Location?, checkpointSeq: Int, source: String)
        case checkpointBeforeStart(firstSeq: Int, checkpointSeq: Int, source: String)

        public var description: String {
            switch self {
            case .notChained(let at):
                return "\(at): not a chained audit line (no seq and prev at its end): inserted or edited"
            case .edited(let at, let seq, let next):
                return "\(at): line (seq \(seq)) was edited: its SHA-256 is not the prev of the next line, \(next)"
            case .firstLineHasPrev(let at):
                return "\(at): the first line ever written (seq 1) must have prev of 64 zeros: it was edited"
            case .missing(let from, let to, let before, let previousFile?):
                let range = from == to ? "seq \(from) is" : "seq \(from) to \(to) are"
                return "\(before): \(range) missing between \(previousFile) and \(before.file): a rotated file is missing, or lines were deleted"
            case .missing(let from, let to, let before, nil):
                let range = from == to ? "line seq \(from) is" : "lines seq \(from) to \(to) are"
                return "\(before): the \(range) missing before this line: deleted"
            case .swapped(let first, let second):
                return "\(first): lines \(first) and \(second) are out of order: reordered"
            case .repeated(let at, let seq, let previous):
                return "\(at): seq \(seq) does not follow \(previous): a line was inserted (\(previous), or this one) or lines reordered"
            case .incomplete(let at):
                return "\(at): the last line has no newline: cut off (a writer that crashed mid-write repairs it at its next start)"
            case .checkpointMismatch(let at, let seq, let source):
                return "\(at): line (seq \(seq)) does not match \(source): it was edited or replaced"
            case .truncated(let lastSeq, let last?, let checkpointSeq, let source):
                return "\(last): the log ends at seq \(lastSeq) but \(source) says seq \(checkpointSeq): lines were cut off the end"
            case .truncated(_, nil, let checkpointSeq, let source):
                return "no chained line was found, but \(source) says seq \(checkpointSeq): lines were cut off the end"
            case .checkpointBeforeStart(let firstSeq, let checkpointSeq, let source):
                return "\(source) is seq \(checkpointSeq), before the first line checked (seq \(firstSeq)): name the older rotated files too"
            }
        }
    }

    /// A line already accepted: its seq and where it is (its hash is kept apart, in place).
    private struct Seen {
        let seq: Int
        let location: Location
    }

    private var checkpoints: [Checkpoint]
    private var file = ""
    private var lineNumber = 0
    private var previousFile: String?
    private var first: Seen?
    private var last: Seen?
    /// The SHA-256 (hex) of `last`, overwritten in place for every line: no allocation per line.
    private var lastHash = [UInt8](repeating: 0, count: 64)
    /// A line whose seq jumped ahead, judged at the next line.
    private var jumped: (seen: Seen, atFileStart: Bool)?
    public private(set) var lineCount = 0

    public init(checkpoints: [Checkpoint] = []) {
        self.checkpoints = checkpoints
    }

    public var firstSeq: Int? { first?.seq }
    public var lastSeq: Int? { last?.seq }

    /// The next file, oldest first.
    public mutating func beginFile(_ name: String) {
        if lineNumber > 0 || !file.isEmpty { previousFile = file }
        file = name
        lineNumber = 0
    }

    /// One line without its newline; `complete` is false for bytes after the file's last newline.
    public mutating func check(_ line: UnsafeRawBufferPointer, complete: Bool = true) -> Fault? {
        lineNumber += 1
        let location = Location(file: file, line: lineNumber)
        let link = complete ? AuditLink(in: line) : nil
        if let jumped, link == nil {
            self.jumped = nil
            return missing(before: jumped.seen, atFileStart: jumped.atFileStart)
        }
        guard complete else { return .incomplete(location) }
        guard let link, link.seq > 0 else { return .notChained(location) }
        lineCount += 1
        let seen = Seen(seq: link.seq, location: location)
        let prev = UnsafeRawBufferPointer(rebasing: line[link.prevRange])
        let atFileStart = lineNumber == 1 && previousFile != nil
        if let jumped {
            self.jumped = nil
            if let last, link.seq == last.seq + 1 { return .swapped(jumped.seen.location, location) }
            return missing(before: jumped.seen, atFileStart: jumped.atFileStart)
        }
        if let last {
            if link.seq == last.seq + 1 {
                if !prev.elementsEqual(lastHash) { return .edited(last.location, seq: last.seq, next: location) }
            } else if link.seq > last.seq + 1 {
                jumped = (seen, atFileStart)
                return nil
            } else {
                return .repeated(location, seq: link.seq, previous: last.location)
            }
        } else {
            if link.seq == 1 && !prev.elementsEqual(AuditHead.genesis.sha256) { return .firstLineHasPrev(location) }
            first = seen
        }
        last = seen
        SHA256.withHex(of: line) { hex in
            lastHash.withUnsafeMutableBufferPointer { _ = $0.initialize(from: hex) }
        }
        for checkpoint in checkpoints where checkpoint.seq == seen.seq && checkpoint.sha256 != lastHash {
            return .checkpointMismatch(location, seq: seen.seq, source: checkpoint.source)
        }
        return nil
    }

    private func missing(before seen: Seen, atFileStart: Bool) -> Fault {
        let from = (last?.seq ?? 0) + 1
        return .missing(fromSeq: from, toSeq: seen.seq - 1, before: seen.location, previousFile: atFileStart ? previousFile : nil)
    }

    /// After the last line of the last file: a pending jump, and checkpoints past the end.
    public mutating func finish() -> Fault? {
        if let jumped {
            self.jumped = nil
            return missing(before: jumped.seen, atFileStart: jumped.atFileStart)
        }
        for checkpoint in checkpoints {
            if let last, checkpoint.seq <= last.seq {
                if let first, checkpoint.seq < first.seq, checkpoint.mustBeCovered {
                    return .checkpointBeforeStart(firstSeq: first.seq, checkpointSeq: checkpoint.seq, source: checkpoint.source)
                }
                continue
            }
            if last == nil && checkpoint.seq == 0 { continue }
            return .truncated(lastSeq: last?.seq ?? 0, last: last?.location, checkpointSeq: checkpoint.seq, source: checkpoint.source)
        }
        return nil
    }
}
