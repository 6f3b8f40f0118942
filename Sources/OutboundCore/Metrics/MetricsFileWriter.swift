/// `run --metrics-file PATH`: rewrites PATH at start, every 10 s, and once more at the end
/// (left in place), as a temporary file renamed over it, the node_exporter textfile
/// collector's convention. Runs on a thread of its own: a census of the spool reads every
/// folder, which the dispatcher's loop must not wait for.
///
/// `@unchecked Sendable`: `stopRequested` is touched only while holding `condition`; the
/// rest is immutable or Sendable.
public final class MetricsFileWriter: @unchecked Sendable {
    public let path: String
    private let spool: Spool
    private let registry: MetricsRegistry
    private let interval: Double
    private let condition = ThreadCondition()
    private var stopRequested = false
    private var finished = false

    public init(path: String, spool: Spool, registry: MetricsRegistry, interval: Double = 10) {
        self.path = path
        self.spool = spool
        self.registry = registry
        self.interval = interval
    }

    /// Writes the file once now (a path that cannot be written is an error the caller
    /// reports before any delivery starts), then starts the thread.
    public func start() throws {
        try writeOnce()
        HelperThread.start(named: "outbound-metric") { [self] in run() }
    }

    /// Ends the thread and writes the file a last time.
    public func stop() {
        condition.lock()
        stopRequested = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
        try? writeOnce()
    }

    public func writeOnce() throws {
        let exposition = MetricsExposition(census: SpoolCensus(spool: spool, now: SystemClock().now()), counters: registry.snapshot())
        try FileSystem.writeAtomically(Array(exposition.text().utf8), to: path)
    }

    private func run() {
        condition.lock()
        while !stopRequested {
            condition.wait(seconds: interval)
            if stopRequested { break }
            condition.unlock()
            do { try writeOnce() } catch { FileSystem.writeStandardError("outbound: metrics file: \(error)\n") }
            condition.lock()
        }
        finished = true
        condition.broadcast()
        condition.unlock()
    }
}
