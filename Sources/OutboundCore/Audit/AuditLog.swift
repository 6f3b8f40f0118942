/// The append-only audit log file (contract sections 8 and 10): whole lines written with one
/// write(2) on an O_APPEND descriptor, then one fsync, each line sealed onto the hash chain.
/// `AuditCommitter` decides when, and groups the lines of many jobs into each write (group
/// commit).
///
/// Several processes may append to one log, and logrotate may rename it under them: each
/// group append holds an exclusive flock on `.state/audit.head` (beside the log; a file no
/// rotation moves), takes the previous line's seq and hash from that head when nobody wrote
/// since it was written (else from the log's last line), checks that its descriptor is still
/// the file at `path` (else opens the new one: the rotated file's last line anchors the new
/// file's first), then writes, fsyncs and writes the new head. A log that is not a regular
/// file (a device, a pipe) is chained from this process's own lines only, with no head.
///
/// A line left incomplete by a write that was cut off (a crash mid-write, a full disk) is
/// removed at the next append or start, and an `audit_repaired` line says how many bytes went:
/// the incomplete line was never acknowledged (its jobs move only after the fsync), and the
/// lines before it keep their chain.
public final class AuditLog {
    public private(set) var path: String
    private var fd: Int32
    private var head: AuditHeadFile?
    /// The last line this process sealed or found: the chain's start when nothing else says.
    private var chain = AuditChain(after: .genesis)
    private var sealed: [UInt8] = []

    public init(path: String) throws {
        self.path = path
        (fd, head) = try Self.open(path)
        do {
            try commit(nil)
        } catch {
            Self.close(fd, head)
            throw error
        }
    }

    deinit { Self.close(fd, head) }

    /// Where the head of the log at `logPath` is kept: `.state/audit.head` in the log's folder
    /// (the spool, unless Config moved the log).
    public static func headPath(forLog logPath: String) -> String {
        "\(FileSystem.parentDirectory(of: logPath))/.state/audit.head"
    }

    private static func open(_ path: String) throws -> (Int32, AuditHeadFile?) {
        try FileSystem.createDirectory(FileSystem.parentDirectory(of: path))
        let fd = try FileSystem.openForUpdate(path, appending: true)
        do {
            guard try FileSystem.identity(of: fd, path: path).isRegular else { return (fd, nil) }
            return (fd, try AuditHeadFile(path: headPath(forLog: path)))
        } catch {
            FileSystem.closeDescriptor(fd)
            throw error
        }
    }

    private static func close(_ fd: Int32, _ head: AuditHeadFile?) {
        FileSystem.closeDescriptor(fd)
        head?.close()
    }

    /// Appends whole, already serialized lines (each a JSON object and a newline) with one
    /// write(2), each sealed onto the chain, then fsyncs and writes the head.
    public func writeDurably(_ lines: [UInt8]) throws {
        try commit(lines)
    }

    /// Opens the log again, at `newPath` if given (after logrotate moved the old file, or
    /// when a reload changed `auditLog`). The old descriptor stays in use if this fails. The
    /// chain goes on where it was.
    public func reopen(at newPath: String? = nil) throws {
        let target = newPath ?? path
        let (newFD, newHead) = try Self.open(target)
        Self.close(fd, head)
        (fd, head, path) = (newFD, newHead, target)
        try commit(nil)
    }

    /// One group append under the lock; with no lines, only the repairs and head catch-up.
    private func commit(_ lines: [UInt8]?) throws {
        guard let head else {
            guard let lines, !lines.isEmpty else { return }
            var next = chain
            sealed.removeAll(keepingCapacity: true)
            try next.seal(lines, into: &sealed)
            try write()
            chain = next
            return
        }
        try head.lock()
        defer { head.unlock() }
        let start = try findPrevious(stored: head.read())
        var next = AuditChain(after: start.previous)
        sealed.removeAll(keepingCapacity: true)
        if let torn = start.tornBytes {
            var repaired = AuditRecord(.auditRepaired, at: SystemClock().now())
            repaired.bytes = torn
            repaired.message = "removed an incomplete last line (\(torn) bytes) left by a write that was cut off "
                + "(a crash or a full disk); it was never acknowledged, and the lines before it are intact"
            try next.seal(repaired.serialized() + [0x0A], into: &sealed)
        }
        if let lines { try next.seal(lines, into: &sealed) }
        if !sealed.isEmpty { try write() }
        chain = next
        let record = AuditHeadRecord(head: next.head, logInode: start.log.inode, logBytes: start.log.size + sealed.count)
        if record != start.stored {
            // The lines are durable: a head that cannot be written only falls behind, which
            // the next writer catches up and `audit verify` does not count as tampering.
            do { try head.write(record) } catch { FileSystem.writeStandardError("outbound: \(error)\n") }
        }
    }

    private func write() throws {
        try FileSystem.writeAll(fd, sealed, path: path)
        try FileSystem.syncFile(fd, path: path)
    }

    /// Where the chain stands, read under the lock.
    private struct Start {
        var previous: AuditHead
        var log: FileIdentity
        var stored: AuditHeadRecord?
        /// The length of an incomplete last line removed just now.
        var tornBytes: Int?
    }

    private func findPrevious(stored: AuditHeadRecord?) throws -> Start {
        var log = try FileSystem.identity(of: fd, path: path)
        if FileSystem.identity(atPath: path)?.inode != log.inode {
            // Rotated (or removed) since this descriptor was opened: a rotated file gets
            // nothing more, whoever is slow to reopen after SIGHUP.
            let newFD = try FileSystem.openForUpdate(path, appending: true)
            FileSystem.closeDescriptor(fd)
            fd = newFD
            log = try FileSystem.identity(of: fd, path: path)
        }
        var start = Start(previous: stored?.head ?? chain.head, log: log, stored: stored)
        if let stored, stored.logInode == log.inode, stored.logBytes == log.size { return start }
        // Someone wrote since the head was written (or it is missing, or belongs to a rotated
        // file): the log's own last line says where the chain is.
        guard log.size > 0 else { return start }
        let end = try AuditLogEnd(fd: fd, size: log.size, path: path)
        if end.completeBytes < log.size {
            try FileSystem.truncateFile(fd, to: end.completeBytes, path: path)
            start.tornBytes = log.size - end.completeBytes
            start.log = try FileSystem.identity(of: fd, path: path)
        }
        // A last line without a link was written before the chain existed (an upgrade): the
        // chain starts afresh after it, at seq 1 with prev of 64 zeros.
        if let last = end.lastLine, let seq = last.withUnsafeBytes({ AuditLink(in: $0)?.seq }) {
            start.previous = AuditHead(seq: seq, sha256: last.withUnsafeBytes { AuditChain.hash(of: $0) })
            // Lines cut off the end of this very file: numbering goes on after the head, so
            // the gap stays visible to `audit verify` instead of being written over.
            if let stored, stored.logInode == log.inode, stored.head.seq > seq { start.previous.seq = stored.head.seq }
        }
        return start
    }
}
