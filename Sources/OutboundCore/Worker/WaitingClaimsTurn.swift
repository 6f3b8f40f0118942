/// When the intake looks again at the claims it holds back: files waiting for room in the
/// byte budget, and claims whose move back to `incoming/` failed and is to be tried again
/// (`IntakeWorker.keepClaimed`). Nothing new is claimed while any wait. Pure: the intake
/// thread says what it knows and waits or reads as told.
enum WaitingClaimsTurn: Equatable {
    /// Read (and move, where due) the waiting claims now.
    case now
    /// Wait this long, or until woken (a release of budget bytes, new credit from the loop).
    case wait(seconds: Double)

    /// `room`: jobs the loop will take now. `moveRetryAt`: when a failed move is due again,
    /// if one waits. `released`: budget bytes were released since the last look.
    ///
    /// A failed move is tried again at its time, not at each release (its own bytes'
    /// release must not make a failing move spin). With no room, the wait is for credit,
    /// which wakes the intake when it comes; a move already due must not turn that into a
    /// wait of a millisecond at a time.
    init(room: Int, moveRetryAt: Double?, released: Bool, now: Double) {
        let due = moveRetryAt.map { now >= $0 } ?? released
        if room > 0 && due {
            self = .now
        } else if room > 0, let moveRetryAt {
            self = .wait(seconds: min(1, max(0.001, moveRetryAt - now)))
        } else {
            self = .wait(seconds: 1)
        }
    }
}
