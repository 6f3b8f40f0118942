/// How many jobs one process holds at once: in flight, ready, and claimed by the intake
/// thread but not yet taken by the loop. Jobs waiting for a stalled destination count only
/// past one window of them (`DispatchCore.heldInWindow`), jobs being set aside only past
/// eight (`deferralsHeld`).
///
/// A job is sent only once its `accepted` line is on disk, and an fsync now and then takes
/// several milliseconds: while it runs, the intake goes on claiming and decoding into this
/// room instead of idling. Measured on a 10,000-job drain (fa89e6a, 20 alternating rounds):
/// with 8 × `concurrency` the median ratio of paired drain times was 1.04 against 4×; 2×
/// starved the loop.
struct ClaimWindow: Equatable {
    /// Transfers in flight at once (`concurrency`).
    var concurrency: Int

    /// Jobs held at once.
    var size: Int { concurrency * 8 }

    /// Jobs being set aside (their states saved by the filing thread, then their lines and
    /// moves) that take no room: they hold no job bytes, only a record of about a kilobyte
    /// each, so a partner answering `503` to a backlog does not hold up the others while its
    /// states are written. Past this many they count, and the intake waits for the filing
    /// thread. Eight windows: 4,096 records, a few MiB, at the default `concurrency`.
    var deferralsOutside: Int { size * 8 }

    /// How many of `underway` deferrals take room in the window.
    func deferralsHeld(underway: Int) -> Int {
        max(0, underway - deferralsOutside)
    }

    /// The room the intake thread may fill: the window less what the loop holds, less one
    /// `concurrency` kept back while retries are due, so a backlog in incoming/ never keeps
    /// them out.
    func intakeCredit(heldByLoop: Int, retriesDue: Bool) -> Int {
        max(0, size - heldByLoop - (retriesDue ? concurrency : 0))
    }

    /// How many due retries may be claimed now: beside what the loop holds and what the intake
    /// has reserved (its credit, or its batch in progress), never beyond the window.
    func roomForRetries(heldByLoop: Int, reservedByIntake: Int) -> Int {
        max(0, size - heldByLoop - reservedByIntake)
    }
}
