import COutbound
import Glibc

/// An eventfd that ends the loop's `poll` early: the intake, the audit committer and the
/// filing thread write to it when they have something for the loop, and the loop watches it
/// beside libcurl's sockets. It needs nothing of libcurl, so those threads can start and wake
/// the loop while libcurl is still being loaded. https://man7.org/linux/man-pages/man2/eventfd.2.html
///
/// `@unchecked Sendable`: it holds one descriptor, which any thread may write to and which is
/// closed only when the last holder lets go.
final class LoopWakeup: @unchecked Sendable {
    let descriptor: Int32

    init() throws(SystemError) {
        descriptor = try systemCall("create the loop's wake-up eventfd", path: "eventfd") {
            outbound_eventfd_open()
        }
    }

    deinit { close(descriptor) }

    /// Makes `descriptor` readable until the next `reset`. Safe from any thread; a wake-up
    /// that finds the counter already set changes nothing.
    func wake() {
        var one: UInt64 = 1
        _ = write(descriptor, &one, MemoryLayout<UInt64>.size)
    }

    /// Clears the wake-ups so far: called by the loop once `poll` reported the descriptor.
    func reset() {
        var count: UInt64 = 0
        _ = read(descriptor, &count, MemoryLayout<UInt64>.size)
    }
}
