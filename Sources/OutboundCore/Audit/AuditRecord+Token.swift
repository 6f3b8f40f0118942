extension AuditRecord {
    /// The `token` line of one token request (section 12): the client, the token URL
    /// (redacted), the status, the time taken, and `expiresIn` or the failure with its OAuth
    /// error code. Built only from these values, so no token, assertion or secret can enter it.
    public static func token(at: Double, client: ClientRecord, milliseconds: Int,
                             result: Result<AccessToken, TokenFailure>, status: Int?) -> AuditRecord {
        var record = AuditRecord(.token, at: at)
        record.clientId = client.clientId
        record.url = client.auth?.tokenURL.redacted
        record.ms = milliseconds
        record.status = status
        switch result {
        case .success(let token):
            record.expiresIn = token.expiresIn
        case .failure(let failure):
            record.error = failure.summary
            record.oauthError = failure.oauthErrorCode
            record.status = failure.status ?? status
        }
        return record
    }
}
