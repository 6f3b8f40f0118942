import COutbound
import Glibc

/// Runs attempts through libcurl's multi interface on the calling thread.
///
/// The dispatcher submits a `TransferRequest` with a token of its own; `wait` lets libcurl
/// work and sleep until something happens; `takeFinished` hands back each finished attempt
/// with its token. Easy handles are pooled and reused; a finished handle is found by the slot
/// number it carries in CURLOPT_PRIVATE, never by searching.
public final class TransferEngine {
    /// A finished attempt.
    public struct Finished: Sendable {
        public let token: Int
        public let result: AttemptResult
        public let milliseconds: Int
        /// Requests put on the wire in this attempt: 2 when libcurl resent the request once
        /// on another connection (the audit's `sends` field).
        public let sends: Int
        /// How the response ended when it was an answer but did not end cleanly (the
        /// audit's `error` on an answered attempt); nil otherwise.
        public let ending: ResponseEnding?
        /// The response body, for a request that asked for it (`collectsResponseBody`).
        public let responseBody: [UInt8]?
    }

    /// libcurl's multi handle, made by `open` once the dispatcher's helper threads are at work:
    /// loading libcurl (thirty-odd libraries, a few milliseconds) overlaps their start.
    private var multiHandle: CurlMulti?
    /// The TLS session cache of the engine's handles, made with the multi handle.
    private var sessions: CurlShare?
    private let maxConnections: Int
    private let wakeup: LoopWakeup
    /// The descriptors `wait` last watched for its caller (the multi handle watches them and
    /// the wake-up's); nil before the first wait.
    private var watched: [Int32]?
    private var slots: [CurlTransfer?] = []
    private var freeSlots: [Int] = []
    private var tokens: [Int] = []
    private var startedAt: [UInt64] = []
    private var busy: [Bool] = []
    public private(set) var inFlight = 0

    public init(maxConnections: Int) throws {
        self.maxConnections = maxConnections
        wakeup = try LoopWakeup()
    }

    /// Starts loading libcurl on a thread of its own, for a process about to make transfers:
    /// the first libcurl call then finds it loaded, or waits only for the rest.
    public static func startLoadingLibcurl() {
        outbound_libcurl_start_loading()
    }

    /// Ends a `wait` early; safe to call from any thread.
    public var wakeUp: @Sendable () -> Void {
        let wakeup = wakeup
        return { wakeup.wake() }
    }

    /// Makes libcurl's multi handle, waiting for libcurl to finish loading: before the first
    /// `start` or `wait`. Throws when libcurl cannot be loaded (`LibcurlUnavailable`) or set up
    /// (`CurlSetupError`).
    public func open() throws {
        guard multiHandle == nil else { return }
        // The share needs libcurl loaded, which the multi handle does; neither is kept unless
        // both are made, so the engine never runs without its session cache.
        let multi = try CurlMulti(maxConnections: maxConnections)
        sessions = try CurlShare()
        multiHandle = multi
    }

    private var multi: CurlMulti {
        guard let multiHandle else { preconditionFailure("TransferEngine used before open()") }
        return multiHandle
    }

    /// Starts an attempt. Throws (and starts nothing) when libcurl rejects an option.
    public func start(_ request: TransferRequest, token: Int) throws {
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
        } else {
            slot = slots.count
            slots.append(nil)
            tokens.append(0)
            startedAt.append(0)
            busy.append(false)
        }
        do {
            if slots[slot] == nil {
                guard let transfer = CurlTransfer(slot: slot, share: sessions) else {
                    throw CurlSetupError(option: "curl_easy_init", message: "out of memory")
                }
                slots[slot] = transfer
            }
            let transfer = slots[slot]!
            try transfer.configure(request)
            try multi.add(transfer)
        } catch {
            freeSlots.append(slot)
            throw error
        }
        tokens[slot] = token
        startedAt[slot] = MonotonicClock.nanoseconds()
        busy[slot] = true
        inFlight += 1
    }

    /// Sleeps until socket activity, one of `watching` becomes readable, or `timeoutMs`
    /// passes (libcurl shortens the wait to its own next timer, and a just-added transfer sets
    /// one at 0), then lets libcurl do the work that is ready. Returns the readable descriptors
    /// of `watching`. Finished transfers are then waiting for `takeFinished`: calling perform
    /// *before* polling could finish one and then sleep the whole timeout on top of it.
    public func wait(watching descriptors: [Int32], timeoutMs: Int) throws(CurlMultiError) -> [Int32] {
        if watched != descriptors {
            watched = descriptors
            multi.watch(descriptors + [wakeup.descriptor])
        }
        var ready = try multi.poll(timeoutMs: timeoutMs)
        if let woken = ready.firstIndex(of: wakeup.descriptor) {
            ready.remove(at: woken)
            wakeup.reset()
        }
        try multi.perform()
        return ready
    }

    /// Every attempt that has finished since the last call.
    public func takeFinished() -> [Finished] {
        var finished: [Finished] = []
        while let (slot, code) = multi.nextFinished() {
            guard slot >= 0, slot < slots.count, busy[slot], let transfer = slots[slot] else { continue }
            let (result, ending) = transfer.result(after: code)
            finished.append(Finished(token: tokens[slot], result: result, milliseconds: elapsedMs(slot),
                                     sends: transfer.sends, ending: ending, responseBody: transfer.collectedBody))
            release(slot)
        }
        return finished
    }

    /// Aborts every attempt still running and returns their tokens.
    public func abortAll() -> [Int] {
        var aborted: [Int] = []
        for slot in slots.indices where busy[slot] {
            aborted.append(tokens[slot])
            release(slot)
        }
        return aborted
    }

    private func release(_ slot: Int) {
        guard busy[slot], let transfer = slots[slot] else { return }
        busy[slot] = false
        multi.remove(transfer)
        transfer.finish()
        freeSlots.append(slot)
        inFlight -= 1
    }

    private func elapsedMs(_ slot: Int) -> Int {
        Int((MonotonicClock.nanoseconds() - startedAt[slot]) / 1_000_000)
    }
}
