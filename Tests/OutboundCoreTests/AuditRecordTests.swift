import XCTest
@testable import OutboundCore

/// Contract section 8: one JSON object a line, `ts` and `event` on every line, and nothing
/// secret: no body bytes, no header values, no query strings or userinfo.
final class AuditRecordTests: XCTestCase {
    private func object(_ record: AuditRecord, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let bytes = record.serialized()
        XCTAssertFalse(bytes.contains(0x0A), "a line must not contain a newline", file: file, line: line)
        XCTAssertFalse(bytes.contains(0x0D), "a line must not contain a carriage return", file: file, line: line)
        let parsed = try JSONSerialization.jsonObject(with: Data(bytes))
        return try XCTUnwrap(parsed as? [String: Any], "the line must be one JSON object", file: file, line: line)
    }

    private func fullRecord() throws -> AuditRecord {
        var record = AuditRecord(.deferred, at: 1_795_923_584.5)
        record.job = "adt-0001"
        record.file = "adt-0001.json"
        record.clientId = Fixture.clientId
        record.attempt = 2
        record.method = "POST"
        record.url = try Fixture.url("https://acme.example:8443/hooks/a?token=CANARY-q").redacted
        record.status = 503
        record.error = "timeout: Timeout was reached"
        record.reason = "http_status"
        record.message = "try again"
        record.ms = 1234
        record.bytes = 56
        record.bodySha256 = String(repeating: "ab", count: 32)
        record.nextAttemptAt = 1_795_923_586.25
        return record
    }

    func testALineIsOneJSONObjectWithTsAndEvent() throws {
        let object = try object(try fullRecord())
        XCTAssertEqual(object["ts"] as? String, "2026-11-29T03:39:44.500Z")
        XCTAssertEqual(object["event"] as? String, "deferred")
        XCTAssertEqual(object["job"] as? String, "adt-0001")
        XCTAssertEqual(object["file"] as? String, "adt-0001.json")
        XCTAssertEqual(object["clientId"] as? String, Fixture.clientId)
        XCTAssertEqual(object["attempt"] as? Int, 2)
        XCTAssertEqual(object["method"] as? String, "POST")
        XCTAssertEqual(object["url"] as? String, "https://acme.example:8443/hooks/a")
        XCTAssertEqual(object["status"] as? Int, 503)
        XCTAssertEqual(object["error"] as? String, "timeout: Timeout was reached")
        XCTAssertEqual(object["reason"] as? String, "http_status")
        XCTAssertEqual(object["message"] as? String, "try again")
        XCTAssertEqual(object["ms"] as? Int, 1234)
        XCTAssertEqual(object["bytes"] as? Int, 56)
        XCTAssertEqual(object["bodySha256"] as? String, String(repeating: "ab", count: 32))
        XCTAssertEqual(object["nextAttemptAt"] as? String, "2026-11-29T03:39:46.250Z")
    }

    /// A record with every field set, each to a value no other field has.
    private func recordWithEveryField() throws -> AuditRecord {
        var record = try fullRecord()
        record.pid = 4242
        record.version = "9.9.9"
        record.count = 7
        record.expiresIn = 3600
        record.oauthError = "invalid_client"
        record.sends = 2
        record.destination = "https://acme.example:8443"
        record.failures = 5
        record.cooldownMs = 30000
        record.blockedBy = "adt-0000.json"
        record.by = "operator"
        record.from = "failed"
        record.replayOf = "saved/adt-0001.json"
        return record
    }

    /// Copies share their fields until one changes: the change is the copy's alone, and the
    /// copy it made carries every other field (a field left out of the storage's copy fails).
    func testAChangedCopyKeepsEveryOtherFieldAndLeavesTheOriginalAlone() throws {
        let original = try recordWithEveryField()
        var copy = original
        copy.attempt = 3
        let before = try object(original)
        XCTAssertEqual(before.count, 29, "every field of the record is written: \(before.keys.sorted())")
        XCTAssertEqual(before["attempt"] as? Int, 2, "the original keeps its attempt")
        var after = try object(copy)
        XCTAssertEqual(after["attempt"] as? Int, 3)
        after["attempt"] = 2
        XCTAssertEqual(NSDictionary(dictionary: after), NSDictionary(dictionary: before),
                       "the changed copy differs from the original in its attempt only")
        var third = copy
        third.message = nil
        XCTAssertEqual(try object(copy)["message"] as? String, "try again", "a copy of a copy is just as separate")
        XCTAssertNil(try object(third)["message"])
    }

    func testTsAndEventComeFirst() throws {
        let text = String(decoding: try fullRecord().serialized(), as: UTF8.self)
        XCTAssertTrue(text.hasPrefix(#"{"ts":"2026-11-29T03:39:44.500Z","event":"deferred","#), text)
    }

    func testFieldsThatDoNotApplyAreLeftOut() throws {
        let object = try object(AuditRecord(.started, at: 0))
        XCTAssertEqual(Set(object.keys), ["ts", "event"])
        var stopped = AuditRecord(.stopped, at: 0)
        stopped.pid = 4242
        stopped.version = RequestBuilder.version
        let stoppedObject = try self.object(stopped)
        XCTAssertEqual(Set(stoppedObject.keys), ["ts", "event", "pid", "version"])
        XCTAssertEqual(stoppedObject["pid"] as? Int, 4242)
    }

    /// Section 8: `sends` appears only when the request went on the wire more than once.
    func testSendsIsWrittenOnlyWhenSet() throws {
        var record = try fullRecord()
        XCTAssertNil(try object(record)["sends"])
        record.sends = 2
        XCTAssertEqual(try object(record)["sends"] as? Int, 2)
    }

    func testControlCharactersInMessagesAreEscaped() throws {
        let nasty = "line1\nline2\r\u{0}\t\u{1B}[31m\u{7F}\"quoted\" back\\slash \u{2028} é😀"
        var record = AuditRecord(.corrupt, at: 0)
        record.message = nasty
        record.file = "evil\nname.json"
        let bytes = record.serialized()
        XCTAssertFalse(bytes.contains { $0 < 0x20 || $0 == 0x7F }, "no raw control byte may reach the log")
        let object = try object(record)
        XCTAssertEqual(object["message"] as? String, nasty)
        XCTAssertEqual(object["file"] as? String, "evil\nname.json")
    }

    func testUrlIsLoggedWithoutQueryOrFragment() throws {
        let url = try Fixture.url("https://acme.example/hooks/a?token=CANARY-q&mrn=12345")
        XCTAssertEqual(url.redacted, "https://acme.example/hooks/a")
        XCTAssertFalse(String(decoding: try fullRecord().serialized(), as: UTF8.self).contains("CANARY-q"))
    }

    func testRedactedUrlNeverCarriesUserinfo() {
        let url = TargetURL(scheme: "https", host: "acme.example", port: 443, path: "/hooks/a", query: "k=v",
                            absoluteString: "https://user:CANARY-pw@acme.example/hooks/a?k=v")
        XCTAssertEqual(url.redacted, "https://acme.example/hooks/a")
        XCTAssertEqual(url.description, "https://acme.example/hooks/a")
    }

    func testRedactedUrlKeepsANonDefaultPort() throws {
        XCTAssertEqual(try Fixture.url("http://acme.example:8080/hooks/").redacted, "http://acme.example:8080/hooks/")
        XCTAssertEqual(try Fixture.url("http://acme.example:80/hooks/").redacted, "http://acme.example/hooks/")
        XCTAssertEqual(try Fixture.url("https://[::1]:8443/x").redacted, "https://[::1]:8443/x")
    }

    func testEventNamesAreTheContractSpellings() {
        XCTAssertEqual(Set(AuditEvent.allCases.map(\.rawValue)), [
            "started", "stopped", "recovered", "accepted", "refused", "corrupt", "delivered", "deferred", "failed",
            "config_reloaded", "config_rejected", "destination_down", "destination_up", "audit_repaired", "lane_blocked", "spool_error",
            "requeued", "held", "released", "purged", "enqueued", "token",
        ])
    }

    func testCorruptReasonsAreTheContractSpellings() {
        XCTAssertEqual(Set(CorruptReason.allCases.map(\.rawValue)), ["invalid_json", "invalid_job", "too_large", "unsupported_file"])
    }

    func testAuditLogAppendsWholeLines() throws {
        let folder = try Fixture.temporaryFolder("audit")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("logs/audit.jsonl").path
        let log = try AuditLog(path: path)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)).count, 0, "opening creates an empty log")
        var refused = AuditRecord(.refused, at: 1)
        refused.message = "two\nlines"
        var batch: [UInt8] = []
        for record in [AuditRecord(.started, at: 0), refused] {
            record.serialize(into: &batch)
            batch.append(0x0A)
        }
        try log.writeDurably(batch)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertTrue(text.hasSuffix("\n"))
        let lines = text.split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        for line in lines {
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            XCTAssertNotNil(object["ts"])
            XCTAssertNotNil(object["event"])
        }
    }
}

/// The byte-level writer behind audit lines, sidecars and state files.
final class JSONObjectWriterTests: XCTestCase {
    private func quoted(_ text: String) -> String {
        var bytes: [UInt8] = []
        JSONObjectWriter.appendQuoted(text, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    func testQuotingEscapesExactlyWhatJSONRequires() throws {
        XCTAssertEqual(quoted("plain"), #""plain""#)
        XCTAssertEqual(quoted(""), #""""#)
        XCTAssertEqual(quoted("a\"b\\c"), #""a\"b\\c""#)
        XCTAssertEqual(quoted("\n\r\t\u{01}\u{7F}"), #""\n\r\t\u0001\u007f""#)
        XCTAssertEqual(quoted("é→😀"), "\"é→😀\"")
        // Every string round-trips through a JSON parser.
        for text in ["x\"", "\\", "\u{00}mid\u{1F}", "a\"\"b", "tail\n", String(repeating: "ab\"", count: 50)] {
            let parsed = try JSONParser.parse(Array(quoted(text).utf8))
            XCTAssertEqual(parsed, .string(text))
        }
    }

    /// The eight-bytes-at-a-time test, for every byte value at every position of a word,
    /// among plain ASCII and among high (UTF-8) bytes: it must say yes exactly when a byte
    /// needs an escape.
    func testTheWordTestFindsEveryByteThatNeedsAnEscape() {
        for filler: UInt8 in [UInt8(ascii: "a"), 0x80, 0xFF, 0x20, 0x21, 0x7E] {
            for position in 0..<8 {
                for value in 0...255 {
                    var word = [UInt8](repeating: filler, count: 8)
                    word[position] = UInt8(value)
                    let packed = word.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                    let needs = word.contains { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || $0 == 0x7F }
                    XCTAssertEqual(JSONObjectWriter.mayNeedEscape(packed), needs, "byte \(value) at \(position) among \(filler)")
                }
            }
        }
    }

    /// Strings of every length up to 40 with a byte that needs an escape at every place,
    /// against a plain byte-by-byte escaper.
    func testQuotingMatchesAByteByByteEscaper() {
        func reference(_ text: String) -> String {
            let hex = Array("0123456789abcdef".utf8)
            var out: [UInt8] = [0x22]
            for byte in text.utf8 {
                switch byte {
                case 0x22, 0x5C: out += [0x5C, byte]
                case 0x0A: out += Array("\\n".utf8)
                case 0x0D: out += Array("\\r".utf8)
                case 0x09: out += Array("\\t".utf8)
                case 0..<0x20, 0x7F: out += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
                default: out.append(byte)
                }
            }
            return String(decoding: out + [0x22], as: UTF8.self)
        }
        for length in 0...40 {
            let plain = String(repeating: "x", count: length)
            XCTAssertEqual(quoted(plain), reference(plain))
            for place in 0..<length {
                for special in ["\"", "\\", "\n", "\u{01}", "\u{7F}", "\t"] {
                    var characters = Array(plain)
                    characters[place] = Character(special)
                    let text = String(characters)
                    XCTAssertEqual(quoted(text), reference(text), "length \(length), \(special.debugDescription) at \(place)")
                }
            }
        }
        let mixed = "é→😀\"Ü\u{1F}" + String(repeating: "ß", count: 9)
        XCTAssertEqual(try JSONParser.parse(Array(quoted(mixed).utf8)), .string(mixed))
    }

    func testIntegersAreWrittenInDecimal() throws {
        var writer = JSONObjectWriter()
        writer.add("zero", 0)
        writer.add("neg", -42)
        writer.add("max", Int.max)
        writer.add("min", Int.min)
        let text = String(decoding: writer.finish(), as: UTF8.self)
        XCTAssertEqual(text, #"{"zero":0,"neg":-42,"max":9223372036854775807,"min":-9223372036854775808}"#)
    }
}
