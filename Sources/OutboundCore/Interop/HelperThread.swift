import COutbound
import Foundation

/// Starts the dispatcher's helper threads (intake, audit committer, filing).
///
/// They run under SCHED_BATCH: a helper woken by a finished fsync or a new batch does not
/// preempt the loop thread in the middle of its work, it runs when a core is free (the loop
/// sleeps in `poll` whenever it waits for anything). On a two-core machine shared with the
/// receiver this measurably cuts context switches; the helpers still get their fair share.
enum HelperThread {
    static func start(named name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread {
            _ = outbound_thread_set_batch()
            body()
        }
        thread.name = name
        thread.start()
    }
}
