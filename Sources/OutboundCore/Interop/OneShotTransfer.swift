/// One request run to its end on the calling thread, with the same libcurl options as the
/// dispatcher's transfers (`CurlTransfer`): for commands that need one answer now, such as
/// `validate --check-auth` asking each token endpoint for a token.
public enum OneShotTransfer {
    /// What came back: the result, the collected body (when asked for) and the time taken.
    public struct Answer: Sendable {
        public let result: AttemptResult
        public let responseBody: [UInt8]?
        public let milliseconds: Int
    }

    public static func perform(_ request: TransferRequest) throws(CurlSetupError) -> Answer {
        guard let transfer = CurlTransfer(slot: 0) else {
            throw CurlSetupError(option: "curl_easy_init", message: "out of memory")
        }
        try transfer.configure(request)
        let started = MonotonicClock.nanoseconds()
        let result = transfer.performBlocking()
        let elapsed = Int((MonotonicClock.nanoseconds() - started) / 1_000_000)
        let body = transfer.collectedBody
        transfer.finish()
        return Answer(result: result, responseBody: body, milliseconds: elapsed)
    }
}
