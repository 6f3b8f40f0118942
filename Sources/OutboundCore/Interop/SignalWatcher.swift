import COutbound
import Glibc

/// The signals a daemon acts on.
public enum ControlSignal: Sendable {
    case stop      // SIGTERM, SIGINT
    case reload    // SIGHUP
}

/// SIGTERM, SIGINT and SIGHUP delivered as readable data on a signalfd, so the dispatcher's
/// one loop sees them between transfers: no async-signal-safety puzzles, no lost signals.
/// Must be created before any other thread starts (the mask is inherited).
/// https://man7.org/linux/man-pages/man2/signalfd.2.html
public final class SignalWatcher {
    public let descriptor: Int32

    public init() throws {
        signal(SIGPIPE, SIG_IGN)
        descriptor = try systemCall("create", path: "signalfd") { outbound_signalfd_open() }
    }

    deinit { close(descriptor) }

    /// Signals received since the last call, in order.
    public func drain() -> [ControlSignal] {
        var signals: [ControlSignal] = []
        while true {
            let number = outbound_signalfd_read(descriptor)
            if number <= 0 { break }
            signals.append(number == SIGHUP ? .reload : .stop)
        }
        return signals
    }
}
