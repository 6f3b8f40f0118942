/// The ordered lanes this process holds (contract 14), as a value: for each lane, the one job
/// allowed out (its head: ready, in flight, or waiting in deferred/ for a retry), the jobs
/// claimed behind it in byte-wise name order, and whether the lane is blocked by a job that
/// ended in failed/ or refused/.
///
/// The dispatch core asks it at three moments: a lane job is admitted (`admit`), a head's
/// attempt ends (`headDelivered`, `headDeferred`, `headFailed`), a retry is found or lost.
/// Each answer says which job may go next. Pure: no I/O, no clock.
struct LaneTable {
    /// What a lane's one job allowed out is doing.
    enum Head: Equatable {
        case none
        /// Ready for a transfer slot, or in flight.
        case active(String)
        /// Waiting in deferred/ under this name for its next attempt: the lane waits too.
        case retrying(String)
        /// A job of the lane ended in failed/ or refused/ under `lanes.onFailure: block`.
        case blocked(byJob: String)

        var isActive: Bool { if case .active = self { return true } else { return false } }
    }

    /// One lane's state.
    struct Lane {
        var head = Head.none
        /// Claimed jobs behind the head, by name (byte-wise), from `start` on: taking the
        /// first moves an index, not the whole list (a long lane's list fills the window).
        var queue: [ClaimedJob] = []
        var start = 0
        /// While the head is retrying: when it is due (later arrivals are parked until then).
        var retryDue = 0.0
        /// Jobs parked in their folder and not back yet: later names wait for them.
        var parked = ParkedNames()

        var waiting: ArraySlice<ClaimedJob> { queue[start...] }
        var isEmpty: Bool { start == queue.count }

        mutating func insert(_ job: ClaimedJob) {
            var index = queue.endIndex
            // Usually the newest name is the last: look from the end.
            while index > start, job.name.bytePrecedes(queue[index - 1].name) { index -= 1 }
            queue.insert(job, at: index)
        }

        mutating func takeFirst() -> ClaimedJob {
            let first = queue[start]
            start += 1
            if start == queue.count {
                queue.removeAll(keepingCapacity: true)
                start = 0
            } else if start >= 64 && start * 2 >= queue.count {
                queue.removeFirst(start)
                start = 0
            }
            return first
        }

        mutating func takeAll() -> [ClaimedJob] {
            defer { queue = []; start = 0 }
            return Array(waiting)
        }
    }

    /// What becomes of a job admitted into its lane.
    enum Admission {
        /// It is the lane's head now: it may be sent.
        case go(ClaimedJob)
        /// It is the job at fault of a blocked lane, requeued: the lane resumes with it.
        case resumes(ClaimedJob)
        /// It waits behind the head.
        case waits
        /// The head waits in deferred/ for a retry due at `until`, or an earlier job of the
        /// lane is parked until then (`ParkedNames`): the job goes back to its folder until
        /// then, so jobs behind a retry never fill the claim window.
        case parks(until: Double)
        /// The lane is blocked by `byJob`: the job goes to hold/.
        case blocked(byJob: String)
    }

    var policy: LaneFailurePolicy
    private(set) var lanes: [LaneKey: Lane] = [:]
    /// The last name sent in each lane, to tell a job that arrives after later ones were sent.
    /// Bounded: forgotten wholesale past `rememberedLimit` lanes (only the note is lost).
    private var lastSent: [LaneKey: String] = [:]
    static let rememberedLimit = 20_000
    /// Jobs waiting behind heads, in all lanes.
    private(set) var waitingCount = 0

    init(policy: LaneFailurePolicy) {
        self.policy = policy
    }

    /// Lanes blocked, with the job at fault.
    var blocked: [(lane: LaneKey, byJob: String)] {
        lanes.compactMap { key, lane in if case .blocked(let job) = lane.head { return (key, job) } else { return nil } }
    }

    func head(of key: LaneKey) -> Head { lanes[key]?.head ?? .none }

    /// A claimed job of lane `key` arrives (from incoming/ or back from deferred/) at `now`.
    mutating func admit(_ job: ClaimedJob, in key: LaneKey, now: Double) -> Admission {
        var lane = lanes[key] ?? Lane()
        defer { store(lane, key) }
        lane.parked.cameBack(job.name)
        lane.parked.forgetIfOverdue(now: now)
        if lane.parked.holdsBack(job.name), lane.head == .none || lane.head.isActive {
            // An earlier job of the lane is parked in its folder: this one waits for it there.
            lane.parked.add(job.name, until: lane.parked.until)
            return .parks(until: lane.parked.until)
        }
        switch lane.head {
        case .none:
            lane.head = .active(job.name)
            return .go(job)
        case .retrying(let name) where name == job.name:
            lane.head = .active(job.name)
            return .go(job)
        case .blocked(let byJob):
            // The job at fault itself, requeued by the operator: the lane resumes with it.
            guard job.name == byJob else { return .blocked(byJob: byJob) }
            lane.head = .active(job.name)
            return .resumes(job)
        case .retrying:
            lane.parked.add(job.name, until: lane.retryDue)
            return .parks(until: lane.retryDue)
        case .active:
            lane.insert(job)
            waitingCount += 1
            return .waits
        }
    }

    /// Whether `name` goes out after a later name of its lane was already sent; records it.
    mutating func sending(_ name: String, in key: LaneKey) -> Bool {
        let late = lastSent[key].map { name.bytePrecedes($0) } ?? false
        if !late {
            if lastSent.count >= Self.rememberedLimit { lastSent.removeAll() }
            lastSent[key] = name
        }
        return late
    }

    /// The head was delivered (or failed under `skip`): the next job of the lane, if any.
    mutating func headDelivered(in key: LaneKey) -> ClaimedJob? {
        guard var lane = lanes[key] else { return nil }
        defer { store(lane, key) }
        guard !lane.isEmpty else {
            lane.head = .none
            return nil
        }
        let next = lane.takeFirst()
        waitingCount -= 1
        lane.head = .active(next.name)
        return next
    }

    /// `next`, just made the head (`headDelivered`), may not go yet: a file that sorts before
    /// it is unread. The lane has no head; `next` and the jobs behind it are parked until
    /// `until` and returned, in name order.
    mutating func parkWaiting(from next: ClaimedJob, until: Double, in key: LaneKey) -> [ClaimedJob] {
        var lane = lanes[key] ?? Lane()
        let parked = [next] + lane.takeAll()
        waitingCount -= parked.count - 1
        lane.head = .none
        for job in parked { lane.parked.add(job.name, until: until) }
        store(lane, key)
        return parked
    }

    /// The head waits in deferred/ under `name` for a retry due at `due`; the lane waits with
    /// it. Returns the jobs that waited behind it, to be parked until then.
    mutating func headDeferred(as name: String, due: Double, in key: LaneKey) -> [ClaimedJob] {
        var lane = lanes[key] ?? Lane()
        lane.head = .retrying(name)
        lane.retryDue = due
        let parked = lane.takeAll()
        for job in parked { lane.parked.add(job.name, until: due) }
        waitingCount -= parked.count
        store(lane, key)
        return parked
    }

    /// The head `name` ended in failed/ or refused/. Under `block`: the lane is blocked and its
    /// waiting jobs are returned, for hold/; under `skip`: the next job goes (`next`).
    mutating func headFailed(_ name: String, in key: LaneKey) -> (held: [ClaimedJob], next: ClaimedJob?) {
        if policy == .skip { return ([], headDelivered(in: key)) }
        var lane = lanes[key] ?? Lane()
        let held = lane.takeAll()
        waitingCount -= held.count
        lane.head = .blocked(byJob: name)
        store(lane, key)
        return (held, nil)
    }

    /// A retry found in deferred/ holds its lane (after a takeover, or at start); of two found
    /// for one lane, the earlier name is the head.
    mutating func retryFound(_ name: String, due: Double, in key: LaneKey) {
        var lane = lanes[key] ?? Lane()
        var earlier = lane.head == .none
        if case .retrying(let current) = lane.head { earlier = name.bytePrecedes(current) }
        if earlier {
            lane.head = .retrying(name)
            lane.retryDue = due
        }
        store(lane, key)
    }

    /// The job at fault of a blocked lane was filed under `name` (a clash name in failed/ or
    /// refused/): the lane is blocked by that file, which is the one an operator requeues.
    mutating func blockerFiled(as name: String, in key: LaneKey) {
        guard var lane = lanes[key], case .blocked = lane.head else { return }
        lane.head = .blocked(byJob: name)
        store(lane, key)
    }

    /// A lane is known to be blocked (its marker was found on disk).
    mutating func blockedFound(_ key: LaneKey, byJob: String) {
        var lane = lanes[key] ?? Lane()
        if case .active = lane.head { return }
        lane.head = .blocked(byJob: byJob)
        store(lane, key)
    }

    /// The lane whose head waits in deferred/ as `name`. Linear in the lanes held: asked only
    /// when a due retry was gone at its claim, which is rare.
    func laneRetrying(_ name: String) -> LaneKey? {
        lanes.first { $0.value.head == .retrying(name) }?.key
    }

    /// The retrying head `name` left deferred/ by other hands (an operator): the lane goes on.
    mutating func retryVanished(_ name: String, in key: LaneKey) -> ClaimedJob? {
        guard lanes[key]?.head == .retrying(name) else { return nil }
        return headDelivered(in: key)
    }

    /// A job parked as `name` went back to its folder as `target` (a namesake was there).
    /// Linear in the lanes held: only after such a clash.
    mutating func parkedRenamed(_ name: String, to target: String) {
        for key in Array(lanes.keys) { lanes[key]?.parked.renamed(name, to: target) }
    }

    /// The operator unblocked `key`: the lane holds nothing and accepts jobs again.
    mutating func unblock(_ key: LaneKey) {
        guard case .blocked? = lanes[key]?.head else { return }
        lanes[key]?.head = .none
        if let lane = lanes[key] { store(lane, key) }
    }

    /// Everything waiting, for a stop or an end; the table is empty afterwards.
    mutating func takeAllWaiting() -> [ClaimedJob] {
        let all = lanes.values.flatMap { Array($0.waiting) }
        lanes.removeAll()
        waitingCount = 0
        return all
    }

    private mutating func store(_ lane: Lane, _ key: LaneKey) {
        if lane.head == .none && lane.isEmpty && lane.parked.isEmpty {
            lanes[key] = nil
        } else {
            lanes[key] = lane
        }
    }
}
