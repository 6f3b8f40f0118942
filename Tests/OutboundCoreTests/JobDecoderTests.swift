import XCTest
@testable import OutboundCore

/// Contract section 3: a job file, field by field.
final class JobDecoderTests: XCTestCase {
    private let minimal = #"{"clientId":"c-1","url":"https://acme.example/hooks/a"}"#

    /// The minimal job with `extra` members added (written as JSON member text).
    private func job(with extra: String) -> String {
        #"{"clientId":"c-1","url":"https://acme.example/hooks/a","# + extra + "}"
    }

    private func assertInvalidJob(_ json: String, naming field: String, fileName: String = "job-1.json",
                                  decoder: JobDecoder = Fixture.decoder, file: StaticString = #filePath, line: UInt = #line) {
        guard let rejection = Fixture.rejection(json, fileName: fileName, decoder: decoder, file: file, line: line) else { return }
        XCTAssertEqual(rejection.reason, .invalidJob, "\(json): \(rejection.message)", file: file, line: line)
        XCTAssertTrue(rejection.message.contains(field), "message should name '\(field)': \(rejection.message)", file: file, line: line)
    }

    // MARK: defaults

    func testMinimalJobGetsTheDefaults() throws {
        let job = try Fixture.job(minimal, fileName: "order-42.json")
        XCTAssertEqual(job.id, "order-42", "id defaults to the file name without .json")
        XCTAssertEqual(job.clientId, "c-1")
        XCTAssertEqual(job.method, .post, "method defaults to POST")
        XCTAssertEqual(job.url.absoluteString, "https://acme.example/hooks/a")
        XCTAssertNil(job.service)
        XCTAssertEqual(job.headers, [])
        XCTAssertNil(job.body)
        XCTAssertNil(job.bodySha256)
        XCTAssertNil(job.maxAttempts)
        XCTAssertNil(job.timeoutMs)
        XCTAssertNil(job.notAfter)
        XCTAssertNil(job.orderingKey)
    }

    func testEveryFieldIsDecoded() throws {
        let job = try Fixture.job(#"""
            {"id":"adt-0001","clientId":"c-1","url":"https://acme.example:8443/hooks/a?x=1","method":"PUT",
             "service":"ADT.Notify","headers":{"X-Trace":"t-1","Content-Type":"application/fhir+json"},
             "body":"{\"a\":1}","maxAttempts":3,"timeoutMs":2500,"notAfter":"2026-11-29T12:00:00Z","orderingKey":"mrn-7"}
            """#, fileName: "other-name.json")
        XCTAssertEqual(job.id, "adt-0001")
        XCTAssertEqual(job.clientId, "c-1")
        XCTAssertEqual(job.url.host, "acme.example")
        XCTAssertEqual(job.url.port, 8443)
        XCTAssertEqual(job.url.path, "/hooks/a")
        XCTAssertEqual(job.url.query, "x=1")
        XCTAssertEqual(job.method, .put)
        XCTAssertEqual(job.service, "ADT.Notify")
        XCTAssertEqual(job.headers, [HeaderField(name: "X-Trace", value: "t-1"),
                                     HeaderField(name: "Content-Type", value: "application/fhir+json")])
        XCTAssertEqual(job.body, Array(#"{"a":1}"#.utf8))
        XCTAssertEqual(job.bodySha256, "015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862")
        XCTAssertEqual(job.maxAttempts, 3)
        XCTAssertEqual(job.timeoutMs, 2500)
        XCTAssertEqual(job.notAfter, 1_795_953_600)
        XCTAssertEqual(job.orderingKey, "mrn-7")
    }

    func testEachMethodIsAccepted() throws {
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            XCTAssertEqual(try Fixture.job(job(with: #""method":"\#(method)""#)).method.rawValue, method)
        }
    }

    func testOtherMethodsAreInvalidJob() {
        for method in ["HEAD", "OPTIONS", "TRACE", "CONNECT", "get", "Post", ""] {
            assertInvalidJob(job(with: #""method":"\#(method)""#), naming: "method")
        }
    }

    // MARK: id

    func testIdOf128CharactersIsAccepted() throws {
        let id = String(repeating: "a", count: 128)
        XCTAssertEqual(try Fixture.job(job(with: #""id":"\#(id)""#)).id, id)
    }

    func testIdOf129CharactersIsInvalidJob() {
        assertInvalidJob(job(with: #""id":"\#(String(repeating: "a", count: 129))""#), naming: "'id'")
    }

    func testIdUsesOnlyLettersDigitsDotUnderscoreAndHyphen() throws {
        XCTAssertEqual(try Fixture.job(job(with: #""id":"A-z_0.9""#)).id, "A-z_0.9")
        for bad in ["", "a/b", "../etc", "a b", "a:b", "é", "a\\u0000b", "a+b"] {
            assertInvalidJob(job(with: #""id":"\#(bad)""#), naming: "'id'")
        }
    }

    func testFileNameStemMustBeAValidIdWhenIdIsAbsent() {
        assertInvalidJob(minimal, naming: "'id'", fileName: "\(String(repeating: "b", count: 129)).json")
        assertInvalidJob(minimal, naming: "'id'", fileName: "order 42.json")
        assertInvalidJob(minimal, naming: "'id'", fileName: "../escape.json")
        assertInvalidJob(minimal, naming: "'id'", fileName: ".json")
    }

    func testFileNameStemOf128CharactersIsTheId() throws {
        let stem = String(repeating: "c", count: 128)
        XCTAssertEqual(try Fixture.job(minimal, fileName: "\(stem).json").id, stem)
    }

    func testDotDotStemMatchesTheIdPattern() throws {
        // `..` is made of the pattern's own characters ([A-Za-z0-9._-]{1,128}); the id is only
        // ever a header value and an audit field, never a path, so the contract admits it.
        XCTAssertEqual(try Fixture.job(minimal, fileName: "...json").id, "..")
    }

    func testIdFieldWinsOverAnInvalidFileName() throws {
        XCTAssertEqual(try Fixture.job(job(with: #""id":"ok-1""#), fileName: "not a valid id.json").id, "ok-1")
    }

    // MARK: types and unknown fields

    func testNumberWhereAStringBelongsIsInvalidJobNamingTheField() {
        let cases = [
            #"{"clientId":42,"url":"https://acme.example/hooks/a"}"#: "clientId",
            #"{"clientId":"c-1","url":7}"#: "url",
            job(with: #""id":7"#): "id",
            job(with: #""method":1"#): "method",
            job(with: #""service":3"#): "service",
            job(with: #""body":5"#): "body",
            job(with: #""bodyBase64":6"#): "bodyBase64",
            job(with: #""notAfter":1795953600"#): "notAfter",
            job(with: #""orderingKey":9"#): "orderingKey",
            job(with: #""headers":{"X-Count":1}"#): "X-Count",
        ]
        for (json, field) in cases { assertInvalidJob(json, naming: field) }
    }

    func testOtherWrongTypesAreInvalidJobNamingTheField() {
        assertInvalidJob(#"{"clientId":["c-1"],"url":"https://acme.example/hooks/a"}"#, naming: "clientId")
        assertInvalidJob(#"{"clientId":null,"url":"https://acme.example/hooks/a"}"#, naming: "clientId")
        assertInvalidJob(job(with: #""headers":[["X-A","b"]]"#), naming: "headers")
        assertInvalidJob(job(with: #""headers":"X-A: b""#), naming: "headers")
        assertInvalidJob(job(with: #""headers":{"X-A":null}"#), naming: "X-A")
        assertInvalidJob(job(with: #""maxAttempts":"3""#), naming: "maxAttempts")
        assertInvalidJob(job(with: #""timeoutMs":true"#), naming: "timeoutMs")
        assertInvalidJob(job(with: #""body":{"a":1}"#), naming: "body")
    }

    func testUnknownFieldIsInvalidJobNamingTheField() {
        assertInvalidJob(job(with: #""colour":"blue""#), naming: "colour")
        assertInvalidJob(job(with: #""Url":"https://acme.example/hooks/b""#), naming: "Url")
        assertInvalidJob(job(with: #""client_id":"c-2""#), naming: "client_id")
    }

    func testAJobMustBeAJSONObject() {
        for json in ["[]", #""job""#, "42", "null"] {
            XCTAssertEqual(Fixture.rejection(json)?.reason, .invalidJob, json)
        }
    }

    func testUndecodableJSONIsInvalidJson() {
        XCTAssertEqual(Fixture.rejection(#"{"clientId":"c-1","url":"https://acme.example/hooks/a""#)?.reason, .invalidJSON)
        XCTAssertEqual(Fixture.rejection("not json")?.reason, .invalidJSON)
        XCTAssertEqual(Fixture.rejection(bytes: [0xEF, 0xBB, 0xBF] + Array(minimal.utf8))?.reason, .invalidJSON, "BOM")
        XCTAssertEqual(Fixture.rejection(bytes: [])?.reason, .invalidJSON, "empty file")
    }

    func testDuplicateFieldIsInvalidJson() {
        let json = #"{"clientId":"c-1","url":"https://acme.example/hooks/a","url":"https://evil.example/"}"#
        XCTAssertEqual(Fixture.rejection(json)?.reason, .invalidJSON)
    }

    // MARK: clientId and url are required

    func testMissingClientIdDecodesForTheGateToRefuse() throws {
        // Section 6: a job without clientId is refused (missing_client_id), not corrupt.
        XCTAssertEqual(try Fixture.job(#"{"url":"https://acme.example/hooks/a"}"#).clientId, "")
        XCTAssertEqual(try Fixture.job(#"{"clientId":"","url":"https://acme.example/hooks/a"}"#).clientId, "")
    }

    func testMissingUrlIsInvalidJob() {
        assertInvalidJob(#"{"clientId":"c-1"}"#, naming: "url")
    }

    // MARK: body and bodyBase64

    func testBodyIsSentAsItsUTF8Bytes() throws {
        XCTAssertEqual(try Fixture.job(job(with: #""body":"héllo\n""#)).body, Array("héllo\n".utf8))
    }

    func testEmptyBodyIsABody() throws {
        XCTAssertEqual(try Fixture.job(job(with: #""body":"""#)).body, [])
    }

    func testBodyBase64IsDecodedToBinary() throws {
        XCTAssertEqual(try Fixture.job(job(with: #""bodyBase64":"AAEC/w==""#)).body, [0x00, 0x01, 0x02, 0xFF])
    }

    func testBodyAndBodyBase64TogetherAreInvalidJob() {
        assertInvalidJob(job(with: #""body":"x","bodyBase64":"eA==""#), naming: "bodyBase64")
    }

    func testMalformedBase64IsInvalidJob() {
        // The last three were taken by Foundation's lenient decoder (as 0x00 0x00, 0x00 and
        // "foo"); malformed text is refused, not guessed at.
        for bad in ["not base64!!", "AAE", "A===", "AA==AA==", "AA=A", "====", "Zm9v="] {
            assertInvalidJob(job(with: #""bodyBase64":"\#(bad)""#), naming: "bodyBase64")
        }
    }

    func testGetWithABodyIsInvalidJob() {
        assertInvalidJob(job(with: #""method":"GET","body":"x""#), naming: "body")
        assertInvalidJob(job(with: #""method":"GET","bodyBase64":"eA==""#), naming: "body")
    }

    func testGetWithoutABodyIsAccepted() throws {
        XCTAssertEqual(try Fixture.job(job(with: #""method":"GET""#)).method, .get)
    }

    // MARK: headers

    func testHeadersKeepTheirOrderNamesAndValues() throws {
        let job = try Fixture.job(job(with: #""headers":{"X-B":"2","x-a":"1","Accept":"application/json","X-Empty":""}"#))
        XCTAssertEqual(job.headers, [HeaderField(name: "X-B", value: "2"), HeaderField(name: "x-a", value: "1"),
                                     HeaderField(name: "Accept", value: "application/json"), HeaderField(name: "X-Empty", value: "")])
    }

    func testHeaderNameThatIsNotATokenIsInvalidJob() {
        for name in ["X Trace", "X:Trace", "", "X(Trace)", "X/Trace", "X@Trace", "X\\\"T", "Ünï", "X\\tT", "X,Y", "X;Y", "[X]"] {
            assertInvalidJob(job(with: #""headers":{"\#(name)":"v"}"#), naming: "headers")
        }
    }

    func testAllTokenCharactersAreAcceptedInHeaderNames() throws {
        let name = "!#$%&'*+-.^_`|~09azAZ"
        XCTAssertEqual(try Fixture.job(job(with: #""headers":{"\#(name)":"v"}"#)).headers.first?.name, name)
    }

    func testHeaderValueWithCRLFOrNULIsInvalidJob() {
        for value in [#"a\rb"#, #"a\nb"#, #"a\r\nX-Injected: 1"#, #"a\u0000b"#] {
            assertInvalidJob(job(with: #""headers":{"X-Trace":"\#(value)"}"#), naming: "X-Trace")
        }
    }

    func testEachDispatcherOwnedHeaderIsInvalidJob() {
        for name in ["Host", "Content-Length", "Transfer-Encoding", "Connection", "Expect", "Epic-Client-ID", "Idempotency-Key"] {
            assertInvalidJob(job(with: #""headers":{"\#(name)":"v"}"#), naming: name)
        }
    }

    func testDispatcherOwnedHeadersAreMatchedCaseInsensitively() {
        for name in ["HOST", "content-length", "TRANSFER-encoding", "cOnNeCtIoN", "expect", "epic-client-id", "IDEMPOTENCY-KEY"] {
            assertInvalidJob(job(with: #""headers":{"\#(name)":"v"}"#), naming: name)
        }
    }

    func testConfiguredClientIdAndIdempotencyHeadersAreDispatcherOwned() throws {
        let decoder = JobDecoder(clientIdHeader: "X-Partner-Id", idempotencyHeader: "X-Request-Key")
        assertInvalidJob(job(with: #""headers":{"x-partner-id":"v"}"#), naming: "x-partner-id", decoder: decoder)
        assertInvalidJob(job(with: #""headers":{"X-REQUEST-KEY":"v"}"#), naming: "X-REQUEST-KEY", decoder: decoder)
        XCTAssertEqual(try Fixture.job(job(with: #""headers":{"Epic-Client-ID":"v"}"#), decoder: decoder).headers.count, 1,
                       "only the configured client-ID header is owned")
    }

    func testWithoutAnIdempotencyHeaderItsUsualNameIsFree() throws {
        let decoder = JobDecoder(clientIdHeader: "Epic-Client-ID", idempotencyHeader: nil)
        XCTAssertEqual(try Fixture.job(job(with: #""headers":{"Idempotency-Key":"k"}"#), decoder: decoder).header("idempotency-key"), "k")
    }

    func testDuplicateHeaderNamesDifferingInCaseAreInvalidJob() {
        assertInvalidJob(job(with: #""headers":{"X-Trace":"a","x-trace":"b"}"#), naming: "x-trace")
    }

    // MARK: url

    func testUrlWithASchemeOtherThanHttpOrHttpsIsInvalidJob() {
        for url in ["ftp://acme.example/hooks/a", "file:///etc/passwd", "gopher://acme.example:70/_x", "ws://acme.example/",
                    "javascript:alert(1)", "dict://acme.example:11211/"] {
            assertInvalidJob(#"{"clientId":"c-1","url":"\#(url)"}"#, naming: "url")
        }
    }

    func testUrlWithUserinfoIsInvalidJob() {
        for url in ["https://user:pw@acme.example/hooks/a", "https://user@acme.example/hooks/a",
                    "https://:pw@acme.example/hooks/a", "https://acme.example@evil.example/hooks/a"] {
            assertInvalidJob(#"{"clientId":"c-1","url":"\#(url)"}"#, naming: "url")
        }
    }

    func testRelativeUrlIsInvalidJob() {
        for url in ["/hooks/a", "hooks/a", "acme.example/hooks/a", "//acme.example/hooks/a", "https:acme.example/hooks",
                    "https:/acme.example/hooks", "", "https://"] {
            assertInvalidJob(#"{"clientId":"c-1","url":"\#(url)"}"#, naming: "url")
        }
    }

    func testUrlWithSpacesOrControlCharactersIsInvalidJob() {
        for url in ["https://acme.example/hooks/a b", " https://acme.example/hooks/a", "https://acme.example/hooks/a ",
                    #"https://acme.example/hooks/a\tb"#, #"https://acme.example/hooks/a\nb"#, #"https://acme.example\\hooks\\a"#] {
            assertInvalidJob(#"{"clientId":"c-1","url":"\#(url)"}"#, naming: "url")
        }
    }

    func testUrlWithAFragmentIsInvalidJob() {
        assertInvalidJob(#"{"clientId":"c-1","url":"https://acme.example/hooks/a#top"}"#, naming: "url")
    }

    func testHttpAndHttpsUrlsGetTheirDefaultPorts() throws {
        let http = try Fixture.job(#"{"clientId":"c-1","url":"http://acme.example/hooks/a"}"#).url
        XCTAssertEqual([http.scheme, http.host, String(http.port), http.path], ["http", "acme.example", "80", "/hooks/a"])
        let https = try Fixture.job(#"{"clientId":"c-1","url":"https://acme.example"}"#).url
        XCTAssertEqual([https.scheme, String(https.port), https.path], ["https", "443", "/"])
    }

    func testUppercaseSchemeAndHostAreNormalizedButPathIsKept() throws {
        let url = try Fixture.job(#"{"clientId":"c-1","url":"HTTPS://ACME.Example/Hooks/A"}"#).url
        XCTAssertEqual(url.scheme, "https")
        XCTAssertEqual(url.host, "acme.example")
        XCTAssertEqual(url.path, "/Hooks/A")
    }

    // MARK: maxAttempts, timeoutMs

    func testMaxAttemptsAndTimeoutMsMustBeWholeNumbersOfAtLeastOne() throws {
        for field in ["maxAttempts", "timeoutMs"] {
            for bad in ["0", "-1", "1.5", "0.5", #""3""#, "null", "[3]"] {
                assertInvalidJob(job(with: #""\#(field)":\#(bad)"#), naming: field)
            }
        }
        XCTAssertEqual(try Fixture.job(job(with: #""maxAttempts":1"#)).maxAttempts, 1)
        XCTAssertEqual(try Fixture.job(job(with: #""timeoutMs":1"#)).timeoutMs, 1)
    }

    // MARK: notAfter

    func testNotAfterIsAnRFC3339Instant() throws {
        XCTAssertEqual(try Fixture.job(job(with: #""notAfter":"2026-11-29T12:00:00Z""#)).notAfter, 1_795_953_600)
        XCTAssertEqual(try Fixture.job(job(with: #""notAfter":"2026-11-29T13:00:00.5+01:00""#)).notAfter, 1_795_953_600.5)
    }

    func testNotAfterThatIsNotRFC3339IsInvalidJob() {
        for bad in ["2026-11-29", "2026-11-29T12:00:00", "tomorrow", "2026-02-30T00:00:00Z", "29/11/2026 12:00",
                    "Sun, 29 Nov 2026 12:00:00 GMT", ""] {
            assertInvalidJob(job(with: #""notAfter":"\#(bad)""#), naming: "notAfter")
        }
    }

    // MARK: service and orderingKey

    func testServiceAndOrderingKeyAreKept() throws {
        let job = try Fixture.job(job(with: #""service":"ADT.Notify","orderingKey":"mrn-7""#))
        XCTAssertEqual(job.service, "ADT.Notify")
        XCTAssertEqual(job.orderingKey, "mrn-7")
    }

    // MARK: messages never carry values

    func testRejectionMessagesNeverContainHeaderValuesOrBodyText() {
        let canary = "CANARY-7f3e9"
        let jobs = [
            job(with: #""headers":{"X-Secret":"\#(canary)\r\nX-Evil: 1"}"#),
            job(with: #""headers":{"X-Secret":"\#(canary)\u0000"}"#),
            job(with: #""headers":{"Host":"\#(canary).example"}"#),
            job(with: #""headers":{"Epic-Client-ID":"\#(canary)"}"#),
            job(with: #""headers":{"X-Dup":"\#(canary)","x-dup":"\#(canary)"}"#),
            job(with: #""headers":{"X-Num":"\#(canary)","X-Bad Name":"\#(canary)"}"#),
            job(with: #""body":"\#(canary) patient data","bodyBase64":"eA==""#),
            job(with: #""method":"GET","body":"\#(canary) patient data""#),
            job(with: #""bodyBase64":"\#(canary)!!""#),
            job(with: #""method":"\#(canary)""#),
            job(with: #""id":"\#(canary)/x""#),
            job(with: #""notAfter":"\#(canary)""#),
            job(with: #""maxAttempts":"\#(canary)""#),
            #"{"clientId":"c-1","url":"https://user:\#(canary)@acme.example/hooks/a"}"#,
            #"{"clientId":"c-1","url":"https://acme.example/hooks/a?token=\#(canary)#frag"}"#,
            #"{"clientId":"c-1","url":"https://acme.example/hooks/a?token=\#(canary) x"}"#,
            #"{"clientId":"c-1","url":"ftp://acme.example/\#(canary)"}"#,
            #"{"clientId":"c-1","url":"https://acme.example/hooks/a","body":"\#(canary)"#,
            #"{"clientId":"c-1","url":"https://acme.example/hooks/a","body":"\#(canary)\u0001"}"# + "\u{1}",
        ]
        for json in jobs {
            guard let rejection = Fixture.rejection(json) else { continue }
            XCTAssertFalse(rejection.message.contains(canary), "a value leaked into the message: \(rejection.message)")
            XCTAssertFalse(rejection.description.contains(canary), "a value leaked into the description: \(rejection.description)")
        }
    }
}
