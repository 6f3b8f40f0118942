import XCTest
@testable import OutboundCore

/// When the intake looks again at the claims it holds back (budget room, a failed move back).
final class WaitingClaimsTurnTests: XCTestCase {
    func testClaimsWaitingForBudgetRoomAreReadAfterARelease() {
        XCTAssertEqual(WaitingClaimsTurn(room: 5, moveRetryAt: nil, released: true, now: 100), .now)
        XCTAssertEqual(WaitingClaimsTurn(room: 5, moveRetryAt: nil, released: false, now: 100), .wait(seconds: 1))
    }

    func testAFailedMoveIsTriedAgainAtItsTimeNotAtEachRelease() {
        XCTAssertEqual(WaitingClaimsTurn(room: 5, moveRetryAt: 100.25, released: true, now: 100), .wait(seconds: 0.25),
                       "its own bytes' release must not make a failing move spin")
        XCTAssertEqual(WaitingClaimsTurn(room: 5, moveRetryAt: 100, released: false, now: 100), .now)
        XCTAssertEqual(WaitingClaimsTurn(room: 5, moveRetryAt: 100.0001, released: false, now: 100), .wait(seconds: 0.001))
        XCTAssertEqual(WaitingClaimsTurn(room: 5, moveRetryAt: 130, released: false, now: 100), .wait(seconds: 1))
    }

    func testWithNoRoomADueMoveWaitsForCreditNotAMillisecondAtATime() {
        XCTAssertEqual(WaitingClaimsTurn(room: 0, moveRetryAt: 99, released: false, now: 100), .wait(seconds: 1),
                       "credit wakes the intake when it comes")
        XCTAssertEqual(WaitingClaimsTurn(room: 0, moveRetryAt: 100.5, released: false, now: 100), .wait(seconds: 1))
        XCTAssertEqual(WaitingClaimsTurn(room: 0, moveRetryAt: nil, released: true, now: 100), .wait(seconds: 1))
    }
}
