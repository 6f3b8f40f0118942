/// `run --metrics-file PATH`: rewrites PATH at start, every 10 s, and once more at the end
/// (left in place), as a temporary file renamed over it, the node_exporter textfile
/// collector's convention. Runs on a thread of its own: a census of the spool reads every
/// folder, which the dispatcher's loop must not wait for.
public final class MetricsFileWriter: Sendable {
    public let path: String
    private let spool: Spool
    private let registry: MetricsRegistry
    private let interval: Double
    /// Whether a stop was asked for, and whether the thread has ended.
    private let state = ThreadCondition((stopRequested: false, finished: false))

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
        state.withLockHeld { held in
            held.state.stopRequested = true
            state.broadcast()
            while !held.state.finished { held.wait() }
        }
        try? writeOnce()
    }

    public func writeOnce() throws {
        let exposition = MetricsExposition(census: SpoolCensus(spool: spool, now: SystemClock().now()), counters: registry.snapshot())
        try FileSystem.writeAtomically(Array(exposition.text().utf8), to: path)
    }

    private func run() {
        state.withLockHeld { held in
            while !held.state.stopRequested {
                held.wait(seconds: interval)
                if held.state.stopRequested { break }
                held.unlocked {
                    do { try writeOnce() } catch { FileSystem.writeStandardError("outbound: metrics file: \(error)\n") }
                }
            }
            held.state.finished = true
            state.broadcast()
        }
    }
}
