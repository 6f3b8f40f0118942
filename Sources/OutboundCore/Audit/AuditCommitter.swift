import Glibc

/// Makes audit lines durable on a thread of its own, so the dispatcher's loop never waits
/// for the disk.
///
/// Threads `append` records; `commit(handing:)` asks for everything
/// appended so far to reach the disk and attaches work that may only happen after that (the
/// moves the lines describe). The committer thread serializes the pending records (off the
/// loop, which has enough to do), writes the lines with one write(2),
/// fsyncs once, hands the attached work to `onDurable`, advances `durableLines` and wakes the
/// loop. Lines that pile up while an fsync runs go out together in the next one: group commit
/// without a timer.
///
/// `flush()` is the synchronous form, for lines that must be on disk before the caller's very
/// next step (start and stop, recovery, reloads).
///
/// After a failed write or fsync nothing more is written: `failure` says why, and the work
/// that was never handed on comes back from `takeUnhanded()`.
///
/// `@unchecked Sendable`: every stored `var` is touched only while holding `condition` (the
/// thread's), except `lines`, the committer thread's own; the log's descriptor is used by
/// the committer thread, or by `reopen` while that thread is known to be between writes.
final class AuditCommitter<Work: Sendable>: @unchecked Sendable {
    private let log: AuditLog
    private let onDurable: @Sendable ([Work]) -> Void
    private let wake: @Sendable () -> Void
    /// Sees every record once it is on disk (the metrics' counters), on the committer thread.
    private let observe: (@Sendable ([AuditRecord]) -> Void)?
    private let thread = OnDemandThread(named: "outbound-audit")
    private var condition: ThreadSignal { thread.condition }

    // Guarded by `condition`.
    private var pending: [AuditRecord] = []
    private var appended = 0
    private var durable = 0
    private var attached: [Work] = []
    /// Commits asked for, and the number the last finished write covered: a flush waits for
    /// its own request only, never for lines appended after it.
    private var requested = 0
    private var completed = 0
    private var writing = false
    private var failureText: String?
    private var unhanded: [Work] = []
    /// The committer thread's own buffer for the lines of one write.
    private var lines: [UInt8] = []

    /// `onDurable` receives attached work once its lines are on disk, on the committer thread;
    /// `wake` is called after every commit (the loop may have jobs waiting for their lines).
    init(log: AuditLog, onDurable: @escaping @Sendable ([Work]) -> Void, wake: @escaping @Sendable () -> Void,
         observe: (@Sendable ([AuditRecord]) -> Void)? = nil) {
        self.log = log
        self.onDurable = onDurable
        self.wake = wake
        self.observe = observe
    }

    // MARK: called from the loop

    /// Queues one line; returns its number (1, 2, ...), for comparing with `durableLines`.
    @discardableResult
    func append(_ record: AuditRecord) -> Int {
        condition.lock()
        defer { condition.unlock() }
        pending.append(record)
        appended += 1
        return appended
    }

    /// Lines known to be on disk: every line numbered up to this one.
    var durableLines: Int {
        condition.withLock { durable }
    }

    /// True when lines or attached work are waiting to be committed.
    var hasUncommitted: Bool {
        condition.withLock { durable < appended || !attached.isEmpty || writing || completed < requested }
    }

    /// Why writing stopped, once it has.
    var failure: String? {
        condition.withLock { failureText }
    }

    /// Commits in the background: `work` goes to `onDurable` once every line appended so far
    /// is on disk.
    func commit(handing work: [Work]) {
        condition.lock()
        defer { condition.unlock() }
        startIfNeeded()
        attached.append(contentsOf: work)
        requested += 1
        condition.broadcast()
    }

    /// Commits and waits: returns once every line appended so far is on disk and the work
    /// attached so far handed on; throws if writing failed. Lines other threads append
    /// meanwhile do not keep it waiting.
    func flush() throws {
        condition.lock()
        defer { condition.unlock() }
        startIfNeeded()
        let target = appended
        requested += 1
        let request = requested
        condition.broadcast()
        while failureText == nil && (durable < target || completed < request) {
            condition.wait()
        }
        if let failureText { throw AuditFailure(message: failureText) }
    }

    /// Work attached to lines that never reached the disk (after a failure), taken once.
    func takeUnhanded() -> [Work] {
        condition.lock()
        defer { condition.unlock() }
        let taken = unhanded + attached
        unhanded.removeAll()
        attached.removeAll()
        return taken
    }

    /// Flushes, then opens the log afresh (at `newPath` if given). The old file stays in use
    /// if the new one cannot be opened.
    func reopen(at newPath: String? = nil) throws {
        try? flush()
        condition.lock()
        defer { condition.unlock() }
        while writing { condition.wait() }
        try log.reopen(at: newPath)
    }

    /// Ends the committer thread after it has written what is pending, and waits for it.
    func stop() {
        thread.stop()
    }

    // MARK: the committer thread

    private func startIfNeeded() {
        thread.startIfNeeded { [self] in run() }
    }

    private func run() {
        condition.lock()
        while true {
            if failureText == nil && (durable < appended || !attached.isEmpty || completed < requested) {
                let records = pending
                let lineCount = appended
                let request = requested
                let work = attached
                pending.removeAll(keepingCapacity: true)
                attached.removeAll(keepingCapacity: true)
                writing = true
                condition.unlock()
                lines.removeAll(keepingCapacity: lines.count < 1 << 20)
                for record in records {
                    record.serialize(into: &lines)
                    lines.append(0x0A)
                }
                var error: Error?
                if !lines.isEmpty {
                    do { try log.writeDurably(lines) } catch let failed { error = failed }
                }
                // Handed on before `durable` moves, so whoever sees the lines as durable also
                // sees their work under way.
                if error == nil && !work.isEmpty { onDurable(work) }
                if error == nil, let observe { observe(records) }
                condition.lock()
                writing = false
                if let error {
                    failureText = "\(error)"
                    unhanded.append(contentsOf: work)
                } else {
                    durable = lineCount
                }
                completed = request
                condition.broadcast()
                condition.unlock()
                wake()
                condition.lock()
                continue
            }
            if thread.isStopRequested { break }
            condition.wait()
        }
        thread.markFinished()
        condition.unlock()
    }
}

/// The audit log could not be written: the message of the error that stopped it.
struct AuditFailure: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
