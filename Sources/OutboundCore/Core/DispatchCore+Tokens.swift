/// OAuth 2.0 client credentials in the dispatch core (contract 12). The decisions about tokens
/// are `TokenCache`'s; this extension applies them to jobs:
/// - a job of an OAuth client asks the cache before it takes a transfer slot: it goes with a
///   token, or is parked in `awaitingToken` (no slot, no host share) while the one token
///   request of its client runs, or is deferred when the endpoint failed lately;
/// - a token request is a transfer of its own (`.fetchToken`), outside the jobs' concurrency;
///   its end (`tokenFetchFinished`) writes one `token` line and releases or defers the parked
///   jobs; nothing goes to a target without a token;
/// - a target's 401 on a call made with a cached token drops the token and sends the job again
///   at once with a fresh one, once, without counting an attempt.
extension DispatchCore {
    /// Asks the token cache for `claimed` (in `tick`, after the gate and the deadline): true
    /// when it goes now (with `claimed.bearer` set for an OAuth client), false when it was
    /// parked or deferred. Token requests to start are added to `actions`.
    mutating func authorize(_ claimed: inout ClaimedJob, _ client: ClientRecord, now: Double,
                            actions: inout [DispatchAction]) -> Bool {
        guard client.auth != nil else { return true }
        // The record a 401 is judged against (`retriesAfter401`).
        claimed.gatePass = GatePass(generation: generation, client: client)
        let waiter = nextWaiter
        switch tokens.authorization(for: client, waiter: waiter, now: now) {
        case .notRequired:
            return true
        case .ready(let token):
            claimed.bearer = token
            return true
        case .readyAndRefresh(let token, let plan):
            claimed.bearer = token
            actions.append(startTokenRequest(client, plan))
            return true
        case .startFetch(let plan):
            actions.append(startTokenRequest(client, plan))
            park(claimed, as: waiter)
            return false
        case .waitForFetch:
            park(claimed, as: waiter)
            return false
        case .unavailable(let until, let failure):
            actions += deferForToken(claimed, until: until, failure: failure, now: now)
            return false
        }
    }

    /// A token request started by `.fetchToken` ended: `result` as `TokenFetchResult` read it,
    /// `status` the HTTP status when one came. One `token` line; the waiting jobs go back to
    /// `ready` (a token) or to deferred/ until the backoff ends (no token).
    mutating func tokenFetchFinished(token: Int, result: Result<AccessToken, TokenFailure>, status: Int?,
                                     milliseconds: Int, now: Double) -> [DispatchAction] {
        guard let (client, fetchId) = tokenFetches.removeValue(forKey: token) else { return [] }
        var actions: [DispatchAction] = [
            .writeTokenLine(.token(at: now, client: client, milliseconds: milliseconds, result: result, status: status)),
        ]
        switch result {
        case .success(let accessToken):
            releaseWaiters(tokens.fetchSucceeded(clientId: client.clientId, fetchId: fetchId, token: accessToken))
        case .failure(let failure):
            guard let verdict = tokens.fetchFailed(clientId: client.clientId, fetchId: fetchId, failure: failure, now: now) else { break }
            for waiter in verdict.deferred {
                guard let claimed = awaitingToken.removeValue(forKey: waiter) else { continue }
                actions += deferForToken(claimed, until: verdict.retryAt, failure: verdict.failure, now: now)
            }
        }
        return actions
    }

    /// A token request still running when the run ended: its `token` line says so. The jobs
    /// that waited for it go back with the rest (`ending`).
    mutating func tokenRequestAbandoned(token: Int, now: Double) -> [DispatchAction] {
        guard let (client, _) = tokenFetches.removeValue(forKey: token) else { return [] }
        return [.writeTokenLine(.token(at: now, client: client, milliseconds: 0, result: .failure(.abandoned), status: nil))]
    }

    /// Whether `token` is a token request's transfer (the shell reads its body).
    func isTokenRequest(_ token: Int) -> Bool { tokenFetches[token] != nil }

    /// Token requests running, for tests.
    var tokenRequestsInFlight: Int { tokenFetches.count }

    /// A 401 to a call made with a token drops it; the first such 401 of the claim sends the
    /// job again at once (back to the front of `ready`), no attempt counted. False when the
    /// 401 (or any other result) is the attempt's outcome.
    mutating func retriesAfter401(_ claimed: inout ClaimedJob, result: AttemptResult) -> Bool {
        guard case .response(401, _) = result, let bearer = claimed.bearer, let client = claimed.gatePass?.client else { return false }
        let verdict = tokens.targetAnswered401(client: client, tokenUsed: bearer, alreadyRetried: claimed.retriedAfter401)
        guard verdict == .retryWithFreshToken, isRunning else { return false }
        claimed.retriedAfter401 = true
        claimed.bearer = nil
        ready.insert(claimed, at: 0)
        return true
    }

    /// Waiters released by the cache go back to the front of `ready`, in their order.
    mutating func releaseWaiters(_ waiters: [Int]) {
        let released = waiters.compactMap { awaitingToken.removeValue(forKey: $0) }
        if !released.isEmpty { ready.insert(contentsOf: released, at: 0) }
    }

    /// Every parked job, in waiter order, leaving none (a stop or the end).
    mutating func takeAllAwaitingToken() -> [ClaimedJob] {
        let jobs = awaitingToken.keys.sorted().compactMap { awaitingToken[$0] }
        awaitingToken.removeAll()
        return jobs
    }

    private mutating func park(_ claimed: ClaimedJob, as waiter: Int) {
        awaitingToken[waiter] = claimed
        nextWaiter += 1
    }

    private mutating func startTokenRequest(_ client: ClientRecord, _ plan: TokenCache.TokenRequestPlan) -> DispatchAction {
        let token = nextToken
        nextToken += 1
        tokenFetches[token] = (client, plan.fetchId)
        return .fetchToken(token: token, client: client)
    }

    /// Deferred until `until` (its deadline still bounds it), no attempt counted.
    private mutating func deferForToken(_ claimed: ClaimedJob, until: Double, failure: TokenFailure, now: Double) -> [DispatchAction] {
        let deadline = policy.deadline(for: claimed.job, firstClaimedAt: claimed.firstClaimedAt)
        let deferral = records.tokenUnavailable(claimed, until: min(until, deadline + 0.001), failure: failure, at: now)
        return setAside(claimed, deferral)
    }
}
