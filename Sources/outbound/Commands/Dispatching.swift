import Glibc
import OutboundCore

/// What `run` and `drain` share: start a dispatcher on the spool, run it to its end, and turn
/// how it ended into an exit status.
enum Dispatching {
    /// The dispatcher that finished, kept until the process exits: tearing down its handles,
    /// connections and buffers one by one only delays the exit (10 to 20 ms after a 10,000-job
    /// drain). By then every line is fsynced, every claim filed or put back and every helper
    /// thread ended; the kernel closes the rest.
    nonisolated(unsafe) private static var finishedDispatcher: Dispatcher?

    static func run(_ invocation: Invocation, mode: Dispatcher.Mode, showProgress: Bool,
                    context: CommandContext) throws(CommandFailure) -> ExitCode {
        // libcurl and its thirty-odd libraries load on a thread of their own while the
        // configuration is read, the spool prepared and incoming/ listed (a few milliseconds
        // off the start of every drain).
        TransferEngine.startLoadingLibcurl()
        let configuration = try invocation.loadConfiguration()
        let isDrain: Bool
        if case .drain = mode { isDrain = true } else { isDrain = false }
        let progress: ((DispatchSummary, Int) -> Void)? = showProgress ? { printProgress($0, $1) } : nil
        let metricsFile = invocation.value("--metrics-file")
        let metrics = metricsFile.map { _ in MetricsRegistry() }
        let dispatcher: Dispatcher
        do {
            dispatcher = try Dispatcher(spoolRoot: invocation.spool, configuration: configuration, mode: mode,
                                        signals: context.signals, progress: progress, metrics: metrics)
        } catch Dispatcher.StartError.auditLog(let error) {
            throw CommandFailure(code: .ioError, message: "cannot open the audit log '\(configuration.settings.auditLogPath)': \(error)")
        } catch {
            throw CommandFailure(code: .cantCreate, message: "spool '\(invocation.spool)': \(error)")
        }
        var metricsWriter: MetricsFileWriter?
        if let metricsFile, let metrics {
            let writer = MetricsFileWriter(path: metricsFile, spool: Spool(root: invocation.spool), registry: metrics)
            do {
                try writer.start()
            } catch {
                throw CommandFailure(code: .cantCreate, message: "--metrics-file: \(error); name a writable folder's file")
            }
            metricsWriter = writer
        }
        // Written a last time, and left in place, however the run ends.
        defer { metricsWriter?.stop() }
        let summary: DispatchSummary
        do {
            summary = try dispatcher.run()
            finishedDispatcher = dispatcher
        } catch {
            throw CommandFailure(code: .ioError, message: "cannot write the audit log '\(configuration.settings.auditLogPath)': \(error)")
        }
        if showProgress { FileSystem.writeStandardError("\r\u{1B}[K") }
        if isDrain { print("drain: \(summary.line)") }
        switch summary.ending {
        case .auditFailure(let why):
            throw CommandFailure(code: .ioError, message: "stopped: the audit log cannot be written (\(why)); "
                + "claims were put back and nothing more was sent. Fix the audit log's folder and start again.")
        case .spoolFailure(let why):
            throw CommandFailure(code: .ioError, message: "stopped: the spool failed under a job (\(why)); its claims were put "
                + "back (the audit log's spool_error lines say where). Free space or descriptors, check the disk, and start again.")
        case .transferEngineFailure(let why):
            throw CommandFailure(code: .software, message: "stopped: \(why); claims were put back. Start again; "
                + "if it recurs, report it with the libcurl version (curl --version).")
        case .transferEngineUnavailable(let why):
            throw CommandFailure(code: .unavailable, message: "stopped before sending anything: \(why); claims were put back.")
        case .deferredRemaining:
            return .temporaryFailure
        case .stopped:
            // A drain stopped by a signal did not finish its work.
            return isDrain ? .temporaryFailure : .ok
        case .finished:
            if isDrain && summary.requeued > 0 {
                throw CommandFailure(code: .ioError, message: "\(summary.requeued) job(s) could not be worked on (the spool errors above "
                    + "say why) and were put back where they came from. Drain again once the cause is fixed.")
            }
            guard isDrain, summary.unclaimable > 0 else { return .ok }
            throw CommandFailure(code: .ioError, message: "\(summary.unclaimable) job file(s) could not be moved out of incoming/ "
                + "or read (the errors above and the audit log's spool_error lines name them) and are still there. "
                + "Fix the cause (permissions, descriptors, the disk) and drain again.")
        }
    }

    private static func printProgress(_ summary: DispatchSummary, _ inFlight: Int) {
        FileSystem.writeStandardError("\rdelivered \(summary.delivered)  failed \(summary.failed)  refused \(summary.refused)  "
            + "corrupt \(summary.corrupt)  retries \(summary.deferred)  in flight \(inFlight)\u{1B}[K")
    }
}
