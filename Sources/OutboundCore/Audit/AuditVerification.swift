/// `outbound audit verify`: reads the named audit files oldest first (plain or gzip) through
/// `AuditChainVerifier`, and when the last of them is the configured log, holds its end
/// against `.state/audit.head`. Never writes anything.
public struct AuditVerification {
    /// What was found: a count and seq range when intact, else the first fault.
    public struct Report: Sendable {
        public var lineCount = 0
        public var firstSeq: Int?
        public var lastSeq: Int?
        public var fault: AuditChainVerifier.Fault?
        /// Things the operator should know that are not faults (a head behind the log, ...).
        public var notes: [String] = []
    }

    public let files: [String]
    public let configuredLog: String
    public let anchor: AuditHead?

    public init(files: [String], configuredLog: String, anchor: AuditHead?) {
        self.files = files.isEmpty ? [configuredLog] : files
        self.configuredLog = configuredLog
        self.anchor = anchor
    }

    public func run() throws -> Report {
        var report = Report()
        var checkpoints: [AuditChainVerifier.Checkpoint] = []
        if let anchor {
            checkpoints.append(.init(seq: anchor.seq, sha256: anchor.sha256, source: "the anchor \(anchor.seq):\(anchor.sha256Text)",
                                     mustBeCovered: true))
        }
        var endsWithLiveLog = false
        if let last = files.last, let log = FileSystem.identity(atPath: configuredLog), FileSystem.identity(atPath: last)?.inode == log.inode {
            endsWithLiveLog = true
            let headPath = AuditLog.headPath(forLog: configuredLog)
            if let bytes = try FileSystem.readSmallFile(headPath, limit: 4096), let stored = AuditHeadRecord(parsing: bytes) {
                if log.size == 0 && stored.logInode != log.inode {
                    report.notes.append("the log is empty since it was rotated; the head (seq \(stored.head.seq)) is in a rotated file")
                } else {
                    checkpoints.append(.init(seq: stored.head.seq, sha256: stored.head.sha256, source: "the head in \(headPath)",
                                             mustBeCovered: false))
                }
            } else {
                report.notes.append("no head in \(headPath): the end of the log is not checked against it")
            }
        }
        var verifier = AuditChainVerifier(checkpoints: checkpoints)
        var fault: AuditChainVerifier.Fault?
        for (index, file) in files.enumerated() where fault == nil {
            verifier.beginFile(file)
            let reader = try LineFileReader(path: file)
            try reader.forEachLine { line, complete in
                // The live log's last line may be mid-write, or left by a crash (the next
                // writer repairs it): not tampering, and not checked.
                if !complete && endsWithLiveLog && index == files.count - 1 {
                    report.notes.append("\(file) ends with an incomplete line (being written, or left by a crash and "
                        + "repaired at the next start): not checked")
                    return false
                }
                fault = verifier.check(line, complete: complete)
                return fault == nil
            }
        }
        if fault == nil { fault = verifier.finish() }
        report.fault = fault
        report.lineCount = verifier.lineCount
        report.firstSeq = verifier.firstSeq
        report.lastSeq = verifier.lastSeq
        if fault == nil, let first = verifier.firstSeq, first > 1 {
            report.notes.append("the first line checked is seq \(first): earlier lines are in older rotated files, not checked")
        }
        return report
    }

    /// Reads `SEQ:HASH` as given to `--anchor`.
    public static func parseAnchor(_ text: String) -> AuditHead? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let seq = Int(parts[0]), seq > 0 else { return nil }
        let hash = Array(parts[1].lowercased().utf8)
        guard AuditLink.isHex64(hash) else { return nil }
        return AuditHead(seq: seq, sha256: hash)
    }
}

/// `outbound audit head`: the newest of the log's last line and `.state/audit.head` (the head
/// file is behind after a crash between append and head write; the log is empty after a
/// rotation). Reads only.
public enum AuditHeadReader {
    public static func current(log: String) throws -> AuditHead? {
        var best: AuditHead?
        if let bytes = try FileSystem.readSmallFile(AuditLog.headPath(forLog: log), limit: 4096),
           let stored = AuditHeadRecord(parsing: bytes) {
            best = stored.head
        }
        if let fd = try FileSystem.openForReading(log) {
            defer { FileSystem.closeDescriptor(fd) }
            let size = try FileSystem.identity(of: fd, path: log).size
            if size > 0, let line = try AuditLogEnd(fd: fd, size: size, path: log).lastLine,
               let seq = line.withUnsafeBytes({ AuditLink(in: $0)?.seq }), seq >= best?.seq ?? 0 {
                best = AuditHead(seq: seq, sha256: line.withUnsafeBytes { AuditChain.hash(of: $0) })
            }
        }
        return best
    }
}
