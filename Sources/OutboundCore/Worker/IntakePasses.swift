/// Whether `incoming/` held nothing to take, decided from the passes the intake makes over it:
/// the fact a drain's end rests on.
///
/// "Empty" is only ever concluded from a full pass that found nothing to claim: a pass that
/// claimed something is followed by another (files may have arrived behind the listing). A
/// requested pass (start, rescan, a drain's last look) counts as answered once such an empty
/// pass ends it; the loop is woken then, and whenever incoming/ turns out settled for the
/// first time. Pure: the intake thread reports what happened and does what it is told.
struct IntakePasses: Equatable {
    /// The last full pass found nothing to claim, and no file waits for a retry.
    private(set) var sawEmptyPass = false
    /// Requested passes answered by an empty pass.
    private(set) var answeredRequests = 0
    /// A requested pass (and the passes it led to) is under way.
    private var answeringRequest = false
    /// Files the current pass tried to claim.
    private var attemptedThisPass = 0

    /// What to do when the listing of the current pass has been worked through.
    enum AtPassEnd: Equatable {
        /// The pass claimed something: list `incoming/` again.
        case startAnotherPass
        /// The pass found nothing; wake the loop if it may be waiting for this.
        case rest(wakeLoop: Bool)
    }

    /// A pass was asked for and starts now.
    mutating func requestedPassStarts() {
        answeringRequest = true
        attemptedThisPass = 0
    }

    /// A batch of `count` files is about to be claimed.
    mutating func claiming(_ count: Int) {
        attemptedThisPass += count
        sawEmptyPass = false
    }

    /// The pass's listing is used up. `settled`: no file waits for a timed retry except
    /// those whose claim failed with an error (they never hold a drain open), and none is
    /// left in incoming/ for a stalled destination.
    mutating func listingEnded(settled: Bool) -> AtPassEnd {
        if attemptedThisPass > 0 {
            attemptedThisPass = 0
            return .startAnotherPass
        }
        var wake = false
        if answeringRequest {
            answeringRequest = false
            answeredRequests += 1
            wake = true
        } else if settled && !sawEmptyPass {
            wake = true
        }
        sawEmptyPass = settled
        return .rest(wakeLoop: wake)
    }
}
