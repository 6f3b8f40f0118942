/// The access tokens of one process, one slot per OAuth client record, and every decision
/// about them (contract section 12), as a value: events in, decisions out, no I/O, no clock.
///
/// - A token is reused until its refresh time, expiry − min(10 % of its life, 60 s); from then
///   on calls still use it while one refresh runs in the background.
/// - At most one token request per client is in flight (single flight); jobs that need a token
///   while it runs wait for it outside any transfer slot (the caller keeps them; this type
///   keeps their waiter numbers and hands them back when the fetch ends).
/// - A failed token request blocks new requests for that client for a backoff (Retry-After
///   when the endpoint sent one, else `baseDelay × 2^(failures−1)` up to `maxDelay`); jobs
///   are deferred until then, their attempt count unchanged.
/// - A target's 401 on a call made with the cached token drops that token.
/// - A reload drops the slots of records whose `auth` changed (or that are gone).
public struct TokenCache: Sendable {
    /// A token request to start: build it with `TokenRequestBuilder.request(for:now:)` for the
    /// client's record and report its end with `fetchSucceeded` or `fetchFailed`, passing
    /// `fetchId` back (a fetch overtaken by a reload is then ignored).
    public struct TokenRequestPlan: Sendable, Equatable {
        public let clientId: String
        public let fetchId: Int
    }

    /// What a job of an OAuth client does now.
    public enum Authorization: Sendable, Equatable {
        /// The client's record has no `auth`: send as usual.
        case notRequired
        /// Send now with this token.
        case ready(AccessToken)
        /// Send now with this token, and start this refresh (the token nears its end).
        case readyAndRefresh(AccessToken, TokenRequestPlan)
        /// A token request is running: the job waits (holding no transfer slot) until its
        /// waiter number comes back from `fetchSucceeded`, `fetchFailed` or `reloaded`.
        case waitForFetch
        /// Start this token request; the job waits for it as with `waitForFetch`.
        case startFetch(TokenRequestPlan)
        /// The token endpoint failed lately: defer the job until `until` (no attempt
        /// counted) with `failure.jobError` as its `error`.
        case unavailable(until: Double, failure: TokenFailure)
    }

    /// What becomes of the jobs that waited for a failed token request.
    public struct FailureVerdict: Sendable, Equatable {
        /// Defer these waiters until `retryAt`, no attempt counted, `error` = `failure.jobError`.
        public let deferred: [Int]
        public let retryAt: Double
        public let failure: TokenFailure
    }

    /// After a target answered 401 to a call carrying a cached token.
    public enum UnauthorizedVerdict: Sendable, Equatable {
        /// Ask `authorization` again at once and resend; no attempt is counted.
        case retryWithFreshToken
        /// The job already had its free retry: the 401 is the attempt's outcome as usual.
        case outcome
    }

    private struct Slot {
        let auth: OAuthClientAuth
        var token: AccessToken?
        var refreshAt = 0.0
        var expiresAt = 0.0
        /// The running fetch and when it started (a token's life is counted from there).
        var fetch: (id: Int, startedAt: Double)?
        var waiters: [Int] = []
        var failures = 0
        var blockedUntil: Double?
        var lastFailure: TokenFailure?

        init(auth: OAuthClientAuth) { self.auth = auth }
    }

    private var slots: [String: Slot] = [:]
    private var nextFetchId = 1
    public let baseDelay: Double
    public let maxDelay: Double

    /// Backoff after failed token requests, in seconds (the retry settings' base and maximum).
    public init(baseDelay: Double, maxDelay: Double) {
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// The refresh time of a token that lives `life` seconds from `start`.
    public static func refreshTime(start: Double, life: Double) -> Double {
        start + life - min(life * 0.1, 60)
    }

    // MARK: events

    /// A job of `client` needs to go out at `now`; `waiter` is the caller's number for it.
    public mutating func authorization(for client: ClientRecord, waiter: Int, now: Double) -> Authorization {
        guard let auth = client.auth else { return .notRequired }
        // The common case, read only: a token that is not due for refresh (or whose refresh
        // runs or waits out a backoff) is simply handed out.
        if let slot = slots[client.clientId], let token = slot.token, now < slot.expiresAt,
           now < slot.refreshAt || slot.fetch != nil || Self.blocked(slot, now), slot.auth == auth {
            return .ready(token)
        }
        var slot = slots[client.clientId].flatMap { $0.auth == auth ? $0 : nil } ?? Slot(auth: auth)
        defer { slots[client.clientId] = slot }
        if let token = slot.token, now < slot.expiresAt {
            guard now >= slot.refreshAt, slot.fetch == nil, !Self.blocked(slot, now) else { return .ready(token) }
            return .readyAndRefresh(token, startFetch(&slot, client.clientId, now))
        }
        slot.token = nil
        if slot.fetch != nil {
            slot.waiters.append(waiter)
            return .waitForFetch
        }
        if let until = slot.blockedUntil, now < until, let failure = slot.lastFailure {
            return .unavailable(until: until, failure: failure)
        }
        slot.waiters.append(waiter)
        return .startFetch(startFetch(&slot, client.clientId, now))
    }

    /// The token request `fetchId` of `clientId` brought a token. Returns the waiters to
    /// release: each asks `authorization` again and gets `.ready`.
    public mutating func fetchSucceeded(clientId: String, fetchId: Int, token: AccessToken) -> [Int] {
        guard var slot = slots[clientId], let fetch = slot.fetch, fetch.id == fetchId else { return [] }
        let life = Double(token.expiresIn)
        slot.token = token
        slot.expiresAt = fetch.startedAt + life
        slot.refreshAt = Self.refreshTime(start: fetch.startedAt, life: life)
        slot.fetch = nil
        slot.failures = 0
        slot.blockedUntil = nil
        slot.lastFailure = nil
        let waiters = slot.waiters
        slot.waiters = []
        slots[clientId] = slot
        return waiters
    }

    /// The token request `fetchId` of `clientId` failed at `now`. A token still valid stays
    /// in use; the waiters (there are none while one is valid) are deferred.
    public mutating func fetchFailed(clientId: String, fetchId: Int, failure: TokenFailure, now: Double) -> FailureVerdict? {
        guard var slot = slots[clientId], let fetch = slot.fetch, fetch.id == fetchId else { return nil }
        slot.fetch = nil
        slot.failures += 1
        var delay = min(maxDelay, baseDelay * Double(1 << min(slot.failures - 1, 30)))
        if case .unavailable(_, let retryAfter?) = failure, let ms = RetryAfter.delayMs(retryAfter, now: now) {
            delay = min(maxDelay, Double(ms) / 1000)
        }
        slot.blockedUntil = now + delay
        slot.lastFailure = failure
        let verdict = FailureVerdict(deferred: slot.waiters, retryAt: now + delay, failure: failure)
        slot.waiters = []
        slots[clientId] = slot
        return verdict
    }

    /// A target answered 401 to a call of `client` made with `tokenUsed`. The token is dropped
    /// if it is still the cached one (a newer token is kept). `alreadyRetried`: the job had its
    /// one free retry after a 401 already.
    public mutating func targetAnswered401(client: ClientRecord, tokenUsed: AccessToken, alreadyRetried: Bool) -> UnauthorizedVerdict {
        if var slot = slots[client.clientId], slot.token == tokenUsed {
            slot.token = nil
            slots[client.clientId] = slot
        }
        return alreadyRetried ? .outcome : .retryWithFreshToken
    }

    /// A new configuration is in force: slots of records whose `auth` changed or that are gone
    /// are dropped with their token, backoff and running fetch (its result will be ignored).
    /// Returns their waiters, to ask `authorization` again under the new records.
    public mutating func reloaded(_ registry: ClientRegistry) -> [Int] {
        var released: [Int] = []
        for (clientId, slot) in slots where registry.record(for: clientId)?.auth != slot.auth {
            released += slot.waiters
            slots[clientId] = nil
        }
        return released
    }

    // MARK: queries

    /// Whether a token request of `clientId` is running (for tests and `status`).
    public func isFetching(_ clientId: String) -> Bool { slots[clientId]?.fetch != nil }

    private static func blocked(_ slot: Slot, _ now: Double) -> Bool {
        slot.blockedUntil.map { now < $0 } ?? false
    }

    private mutating func startFetch(_ slot: inout Slot, _ clientId: String, _ now: Double) -> TokenRequestPlan {
        let id = nextFetchId
        nextFetchId += 1
        slot.fetch = (id, now)
        return TokenRequestPlan(clientId: clientId, fetchId: id)
    }
}
