@testable import OutboundCore
import XCTest

/// `maxClaimedBytes` (contract section 5): job bytes held never exceed the budget, and one job
/// larger than the budget still goes, alone.
final class ByteBudgetTests: XCTestCase {
    func testReservationsThatFitAreGrantedAndTheNextOneWaits() {
        var budget = ByteBudget(limit: 100)
        XCTAssertEqual(budget.reserve(40), .granted)
        XCTAssertEqual(budget.reserve(60), .granted)
        XCTAssertEqual(budget.held, 100)
        XCTAssertEqual(budget.reserve(1), .wait)
        XCTAssertEqual(budget.held, 100, "a refused reservation holds nothing")
        budget.release(40)
        XCTAssertEqual(budget.reserve(41), .wait)
        XCTAssertEqual(budget.reserve(40), .granted)
    }

    func testHeldNeverExceedsTheLimitUnlessOneJobIsAlone() {
        var budget = ByteBudget(limit: 1000)
        var sizes: [Int] = []
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<10_000 {
            if !sizes.isEmpty && Bool.random(using: &generator) {
                budget.release(sizes.removeFirst())
            } else {
                let size = Int.random(in: 0...1500, using: &generator)
                if budget.reserve(size) == .granted { sizes.append(size) }
            }
            XCTAssertTrue(budget.held <= budget.limit || budget.holders == 1, "held \(budget.held) by \(budget.holders)")
            XCTAssertEqual(budget.held, sizes.reduce(0, +))
        }
    }

    func testAJobLargerThanTheBudgetGoesOnlyAlone() {
        var budget = ByteBudget(limit: 100)
        XCTAssertEqual(budget.reserve(10), .granted)
        XCTAssertFalse(budget.mayClaim(fileSize: 500))
        XCTAssertEqual(budget.reserve(500), .wait, "not while anything else is held")
        budget.release(10)
        XCTAssertTrue(budget.mayClaim(fileSize: 500))
        XCTAssertEqual(budget.reserve(500), .granted, "alone")
        XCTAssertEqual(budget.reserve(0), .wait, "nothing joins it")
        XCTAssertEqual(budget.reserve(1), .wait)
        budget.release(500)
        XCTAssertEqual(budget.reserve(1), .granted)
    }

    func testTheIntakeMayClaimWhatIsLeftOrAnythingWhenNothingIsHeld() {
        var budget = ByteBudget(limit: 100)
        XCTAssertEqual(budget.largestClaimable, Int.max)
        _ = budget.reserve(70)
        XCTAssertEqual(budget.largestClaimable, 30)
        XCTAssertTrue(budget.mayClaim(fileSize: 30))
        XCTAssertFalse(budget.mayClaim(fileSize: 31))
        XCTAssertEqual(budget.held, 70, "asking reserves nothing")
    }
}
