/// The shell's side of OAuth tokens (contract 12): it signs and sends the token requests the
/// core asks for, through the same multi handle as the jobs (the core counts them apart from
/// the jobs' concurrency), reads each answer with `TokenFetchResult` and hands it back. The
/// token itself goes from the answer to the core's cache and into `Authorization` header
/// lines only: never to the audit log, a sidecar or stderr.
extension Dispatcher {
    func performTokenAction(_ action: DispatchAction) {
        switch action {
        case .fetchToken(let token, let client):
            let failure: TokenFailure
            do {
                try engine.start(TokenRequestBuilder(settings: settings).request(for: client, now: clock.now()), token: token)
                return
            } catch let error as ClientAssertion.Failure {
                failure = .setup(error.description)
            } catch {
                failure = .setup("\(error)")
            }
            perform(core.tokenFetchFinished(token: token, result: .failure(failure), status: nil, milliseconds: 0, now: clock.now()))
        case .writeTokenLine(let record):
            audit.append(record)
        default:
            preconditionFailure("not a token action")
        }
    }

    /// A finished transfer that was a token request: its answer, read, goes to the core.
    func tokenRequestFinished(_ finished: TransferEngine.Finished) {
        let result = TokenFetchResult.classify(finished.result, body: finished.responseBody)
        var status: Int?
        if case .response(let code, _) = finished.result { status = code }
        perform(core.tokenFetchFinished(token: finished.token, result: result, status: status,
                                        milliseconds: finished.milliseconds, now: clock.now()))
    }
}
