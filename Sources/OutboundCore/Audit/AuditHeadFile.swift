/// `.state/audit.head`, held open: the lock every writer of one log takes around its group
/// append (it stays put when logrotate renames the log), and the head it keeps.
///
/// Not synced on its own: the log's lines are fsynced before the head is written, so after a
/// crash the head is at worst behind the log, never ahead of it.
final class AuditHeadFile {
    let path: String
    private let fd: Int32
    /// The length of what the file held when last read or written: a shorter head written
    /// later needs the rest cut off.
    private var length = 0

    init(path: String) throws {
        self.path = path
        try FileSystem.createDirectory(FileSystem.parentDirectory(of: path))
        fd = try FileSystem.openForUpdate(path, appending: false)
    }

    func close() { FileSystem.closeDescriptor(fd) }

    func lock() throws { try FileSystem.lockFile(fd, path: path) }

    func unlock() { FileSystem.unlockFile(fd, path: path) }

    /// The head record; nil when the file is empty or does not hold one.
    func read() throws -> AuditHeadRecord? {
        let bytes = try FileSystem.readBytes(fd, count: 1024, at: 0, path: path)
        length = bytes.count
        return AuditHeadRecord(parsing: bytes)
    }

    func write(_ record: AuditHeadRecord) throws {
        let bytes = record.serialized()
        try FileSystem.writeBytes(fd, bytes, at: 0, path: path)
        if bytes.count < length { try FileSystem.truncateFile(fd, to: bytes.count, path: path) }
        length = bytes.count
    }
}

/// The end of an audit log file: its last complete line, and how many bytes end with a
/// newline (anything after them is an incomplete line). Read backwards from the end in
/// growing chunks, so a long log costs one small pread.
struct AuditLogEnd {
    /// The last complete line, without its newline; nil when there is none.
    let lastLine: [UInt8]?
    /// The length of the file up to and including its last newline.
    let completeBytes: Int

    init(fd: Int32, size: Int, path: String) throws {
        var chunk = 16 << 10
        while true {
            let offset = max(0, size - chunk)
            let bytes = try FileSystem.readBytes(fd, count: size - offset, at: offset, path: path)
            guard let lastNewline = bytes.lastIndex(of: 0x0A) else {
                if offset == 0 { (lastLine, completeBytes) = (nil, 0); return }
                chunk *= 4
                continue
            }
            if let previous = bytes[..<lastNewline].lastIndex(of: 0x0A) {
                (lastLine, completeBytes) = (Array(bytes[(previous + 1)..<lastNewline]), offset + lastNewline + 1)
                return
            }
            if offset == 0 {
                (lastLine, completeBytes) = (Array(bytes[..<lastNewline]), lastNewline + 1)
                return
            }
            chunk *= 4
        }
    }
}
