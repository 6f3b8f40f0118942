import XCTest
@testable import OutboundCore

/// Contract section 2: state that needs more than the job's bytes (attempt count, first claim,
/// next attempt) lives outside the job file, and applies only to the file it was written for.
final class JobStateStoreTests: XCTestCase {
    private var root: URL!
    private var store: JobStateStore!

    override func setUpWithError() throws {
        root = try Fixture.temporaryFolder("state")
        let spool = Spool(root: root.path)
        try spool.prepare()
        store = JobStateStore(spool: spool)
    }

    override func tearDownWithError() throws {
        if let root { try? FileManager.default.removeItem(at: root) }
    }

    func testSavedStateLoadsBackForTheSameFile() throws {
        let state = JobState(attempts: 3, firstClaimedAt: 1_795_923_584.5, nextAttemptAt: 1_795_923_600.25, inode: 123_456)
        try store.save(state, for: "adt-0001.json")
        XCTAssertEqual(try store.load("adt-0001.json", inode: 123_456), state)
    }

    func testTimesKeepTheirMilliseconds() throws {
        let state = JobState(attempts: 1, firstClaimedAt: 1_795_923_584.123, nextAttemptAt: 1_795_923_585.007, inode: 9)
        try store.save(state, for: "j.json")
        let loaded = try XCTUnwrap(store.load("j.json", inode: 9))
        XCTAssertEqual(loaded.firstClaimedAt, state.firstClaimedAt, accuracy: 0.0005)
        XCTAssertEqual(loaded.nextAttemptAt, state.nextAttemptAt, accuracy: 0.0005)
    }

    func testStateOfAnotherFileWithTheSameNameIsIgnored() throws {
        try store.save(JobState(attempts: 5, firstClaimedAt: 0, nextAttemptAt: 10, inode: 111), for: "j.json")
        XCTAssertNil(try store.load("j.json", inode: 222))
    }

    func testStateLoadsWhenTheInodeIsNotKnown() throws {
        let state = JobState(attempts: 2, firstClaimedAt: 0, nextAttemptAt: 10, inode: 111)
        try store.save(state, for: "j.json")
        XCTAssertEqual(try store.load("j.json", inode: nil), state)
    }

    func testTheLargestInodeSurvives() throws {
        let state = JobState(attempts: 1, firstClaimedAt: 0, nextAttemptAt: 0, inode: .max)
        try store.save(state, for: "j.json")
        XCTAssertEqual(try store.load("j.json", inode: .max), state)
    }

    func testMissingStateIsNil() throws {
        XCTAssertNil(try store.load("never-saved.json", inode: nil))
    }

    func testSavingAgainReplacesTheState() throws {
        try store.save(JobState(attempts: 1, firstClaimedAt: 0, nextAttemptAt: 1, inode: 7), for: "j.json")
        try store.save(JobState(attempts: 2, firstClaimedAt: 0, nextAttemptAt: 3, inode: 7), for: "j.json")
        XCTAssertEqual(try store.load("j.json", inode: 7)?.attempts, 2)
        XCTAssertEqual(try store.load("j.json", inode: 7)?.nextAttemptAt, 3)
    }

    func testRemovedStateIsGone() throws {
        try store.save(JobState(attempts: 1, firstClaimedAt: 0, nextAttemptAt: 1, inode: 7), for: "j.json")
        store.remove("j.json")
        XCTAssertNil(try store.load("j.json", inode: 7))
        store.remove("j.json") // removing twice is harmless
    }

    func testDamagedStateIsIgnored() throws {
        let path = "\(store.directory)/j.json"
        for text in ["", "not json", #"{"attempts":1}"#, #"{"attempts":"1","firstClaimedAt":"1970-01-01T00:00:00.000Z","nextAttemptAt":"1970-01-01T00:00:00.000Z","inode":7}"#,
                     #"{"attempts":1,"firstClaimedAt":"yesterday","nextAttemptAt":"1970-01-01T00:00:00.000Z","inode":7}"#,
                     #"{"attempts":1,"firstClaimedAt":"1970-01-01T00:00:00.000Z","nextAttemptAt":"1970-01-01T00:00:00.000Z","inode":-7}"#] {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            XCTAssertNil(try store.load("j.json", inode: 7), text)
        }
    }

    func testStateIsKeptOutsideTheJobFolders() throws {
        try store.save(JobState(attempts: 1, firstClaimedAt: 0, nextAttemptAt: 1, inode: 7), for: "j.json")
        XCTAssertEqual(store.directory, "\(root.path)/.state")
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(root.path)/.state/j.json"))
        for folder in SpoolFolder.allCases {
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: "\(root.path)/\(folder.rawValue)"), [], folder.rawValue)
        }
    }

    /// Two jobs with one name (one in hold/, one set aside, or two processes setting aside at
    /// once): a save never takes another file's state, so that job keeps its attempts.
    func testSavingNeverReplacesAnotherFilesState() throws {
        try store.save(JobState(attempts: 4, firstClaimedAt: 0, nextAttemptAt: 10, inode: 111), for: "j.json")
        XCTAssertThrowsError(try store.save(JobState(attempts: 1, firstClaimedAt: 0, nextAttemptAt: 5, inode: 222), for: "j.json")) { error in
            XCTAssertEqual((error as? SystemError)?.code, EEXIST, "\(error)")
        }
        XCTAssertEqual(try store.load("j.json", inode: 111)?.attempts, 4)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: store.directory), ["j.json"], "no temporary file left")
    }

    func testSavingReplacesAFileThatIsNoState() throws {
        try Data("not json".utf8).write(to: URL(fileURLWithPath: "\(store.directory)/j.json"))
        try store.save(JobState(attempts: 2, firstClaimedAt: 0, nextAttemptAt: 5, inode: 222), for: "j.json")
        XCTAssertEqual(try store.load("j.json", inode: 222)?.attempts, 2)
    }

    /// A job file at `name` in the spool's hold/ folder; its inode.
    private func jobFile(_ name: String) throws -> (path: String, inode: UInt64) {
        let path = "\(root.path)/hold/\(name)"
        try Data("{}".utf8).write(to: URL(fileURLWithPath: path))
        return (path, try XCTUnwrap(FileSystem.inode(of: path)))
    }

    func testRenamedStateFollowsItsJob() throws {
        let job = try jobFile("j~1.json")
        try store.save(JobState(attempts: 3, firstClaimedAt: 0, nextAttemptAt: 10, inode: job.inode), for: "j.json")
        XCTAssertTrue(store.rename("j.json", to: "j~1.json", forFileAt: job.path))
        XCTAssertNil(try store.load("j.json", inode: nil))
        XCTAssertEqual(try store.load("j~1.json", inode: job.inode)?.attempts, 3)
    }

    /// A clash name whose state file is another job's: that state stays as it is, and the
    /// moved job's state stays under its old name.
    func testRenameNeverReplacesAnotherFilesState() throws {
        let job = try jobFile("j~1.json")
        try store.save(JobState(attempts: 3, firstClaimedAt: 0, nextAttemptAt: 10, inode: job.inode), for: "j.json")
        try store.save(JobState(attempts: 4, firstClaimedAt: 0, nextAttemptAt: 10, inode: job.inode + 1), for: "j~1.json")
        XCTAssertFalse(store.rename("j.json", to: "j~1.json", forFileAt: job.path))
        XCTAssertEqual(try store.load("j~1.json", inode: job.inode + 1)?.attempts, 4)
        XCTAssertEqual(try store.load("j.json", inode: job.inode)?.attempts, 3)
    }

    /// A job without state of its own moved under a clash name leaves the state under its
    /// old name alone: that is a namesake's (one held, say).
    func testRenameLeavesANamesakesState() throws {
        let job = try jobFile("j~1.json")
        try store.save(JobState(attempts: 2, firstClaimedAt: 0, nextAttemptAt: 10, inode: job.inode + 1), for: "j.json")
        XCTAssertFalse(store.rename("j.json", to: "j~1.json", forFileAt: job.path))
        XCTAssertEqual(try store.load("j.json", inode: job.inode + 1)?.attempts, 2)
        XCTAssertNil(try store.load("j~1.json", inode: nil))
    }
}
