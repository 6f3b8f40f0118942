/// The end of the audit log's hash chain (contract section 10): the last line's `seq` and
/// the SHA-256 of its bytes. The next line carries `seq + 1` and `prev = sha256`.
public struct AuditHead: Sendable, Equatable {
    public var seq: Int
    /// 64 lowercase hex digits, as bytes.
    public var sha256: [UInt8]

    public init(seq: Int, sha256: [UInt8]) {
        self.seq = seq
        self.sha256 = sha256
    }

    /// Before the first line: the first line ever written has `seq` 1 and `prev` 64 zeros.
    public static let genesis = AuditHead(seq: 0, sha256: Array(repeating: UInt8(ascii: "0"), count: 64))

    public var sha256Text: String { String(decoding: sha256, as: UTF8.self) }
}

/// What `.state/audit.head` holds: the head, and which file and length of the log it was
/// written for, so a writer can tell whether anyone appended since (then it reads the last
/// line instead) and whether the log is shorter than it was (lines cut off the end).
public struct AuditHeadRecord: Sendable, Equatable {
    public var head: AuditHead
    /// The log's inode and size right after the line `head` describes was written.
    public var logInode: UInt64
    public var logBytes: Int

    public init(head: AuditHead, logInode: UInt64, logBytes: Int) {
        self.head = head
        self.logInode = logInode
        self.logBytes = logBytes
    }

    /// One JSON line: `{"seq":N,"sha256":"…","logInode":I,"logBytes":B}`.
    public func serialized() -> [UInt8] {
        var writer = JSONObjectWriter()
        writer.add("seq", head.seq)
        writer.add("sha256", head.sha256Text)
        writer.add("logInode", Int(clamping: logInode))
        writer.add("logBytes", logBytes)
        var bytes = writer.finish()
        bytes.append(0x0A)
        return bytes
    }

    /// Reads the file's bytes; nil when they are not a head record (empty, torn, edited).
    public init?(parsing bytes: [UInt8]) {
        guard case .object(let members)? = try? JSONParser.parse(bytes) else { return nil }
        func member(_ key: String) -> JSONValue? { members.first { $0.key == key }?.value }
        guard let seq = member("seq")?.integerValue, seq >= 0,
              case .string(let hash)? = member("sha256"), AuditLink.isHex64(Array(hash.utf8)),
              case .number(let inodeText)? = member("logInode"), let inode = UInt64(inodeText),
              let size = member("logBytes")?.integerValue, size >= 0
        else { return nil }
        self.init(head: AuditHead(seq: seq, sha256: Array(hash.utf8)), logInode: inode, logBytes: size)
    }
}
