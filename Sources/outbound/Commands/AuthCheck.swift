import OutboundCore

/// `outbound validate --check-auth`: asks each OAuth client record's token endpoint for a token
/// once, now, and says per record whether one came. Only when asked: an endpoint that is
/// down is no reason to reject job files or a config. The token that comes back is dropped
/// unseen; the line names the client, the status and `expires_in`, or the failure with its
/// OAuth error code.
enum AuthCheck {
    /// One line per record with `auth`; true when every one got a token.
    static func run(_ configuration: Configuration, clock: any WallClock = SystemClock()) -> Bool {
        let builder = TokenRequestBuilder(settings: configuration.settings)
        var allGood = true
        for record in configuration.registry.all where record.auth != nil {
            let verdict: String
            switch check(record, builder: builder, now: clock.now()) {
            case .success(let token):
                verdict = "token endpoint ok (expires_in \(token.expiresIn) s)"
            case .failure(let failure):
                allGood = false
                verdict = failure.summary
            }
            print("client \(record.clientId) (\(record.application)): \(verdict)")
        }
        return allGood
    }

    private static func check(_ record: ClientRecord, builder: TokenRequestBuilder, now: Double) -> Result<AccessToken, TokenFailure> {
        let request: TransferRequest
        do {
            request = try builder.request(for: record, now: now)
        } catch {
            return .failure(.setup(error.description))
        }
        do {
            let answer = try OneShotTransfer.perform(request)
            return TokenFetchResult.classify(answer.result, body: answer.responseBody)
        } catch {
            return .failure(.setup(error.description))
        }
    }
}
