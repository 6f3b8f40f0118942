import XCTest
@testable import OutboundCore

/// The strict JSON parser job files and Config go through (contract section 3: "UTF-8 JSON,
/// one object"; an ambiguous file is `invalid_json`, never guessed at).
final class JSONParserTests: XCTestCase {
    private func parse(_ text: String) throws -> JSONValue {
        try JSONParser.parse(Array(text.utf8))
    }

    private func assertRejected(_ bytes: [UInt8], _ why: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try JSONParser.parse(bytes), why, file: file, line: line) { error in
            XCTAssertTrue(error is JSONSyntaxError, "\(why): unexpected error type \(type(of: error))", file: file, line: line)
        }
    }

    private func assertRejected(_ text: String, _ why: String, file: StaticString = #filePath, line: UInt = #line) {
        assertRejected(Array(text.utf8), why, file: file, line: line)
    }

    // MARK: valid documents

    func testObjectMembersKeepDocumentOrder() throws {
        guard case .object(let members) = try parse(#"{"zeta":1,"alpha":2,"mid":3,"Alpha":4}"#) else {
            return XCTFail("expected an object")
        }
        XCTAssertEqual(members.map(\.key), ["zeta", "alpha", "mid", "Alpha"])
        XCTAssertEqual(members.map(\.value), [.number("1"), .number("2"), .number("3"), .number("4")])
    }

    func testNumberLexemesAreKeptExactly() throws {
        let value = try parse("[3.0, -1.5e3, 0, -0, 1E+2, 2e-7, 12345678901234567890123, 0.10]")
        XCTAssertEqual(value, .array([
            .number("3.0"), .number("-1.5e3"), .number("0"), .number("-0"), .number("1E+2"), .number("2e-7"),
            .number("12345678901234567890123"), .number("0.10"),
        ]))
        XCTAssertEqual(JSONValue.number("3.0").integerValue, nil, "3.0 is not written as an integer")
        XCTAssertEqual(JSONValue.number("42").integerValue, 42)
    }

    func testLiteralsStringsAndNestedValuesParse() throws {
        let value = try parse(#" {"a":[true,false,null,"x",{}],"b":{"c":[]}} "#)
        XCTAssertEqual(value, .object([
            (key: "a", value: .array([.bool(true), .bool(false), .null, .string("x"), .object([])])),
            (key: "b", value: .object([(key: "c", value: .array([]))])),
        ]))
    }

    func testWhitespaceAroundTheDocumentIsAllowed() throws {
        XCTAssertEqual(try parse(" \t\r\n{}\n\t "), .object([]))
    }

    func testStringEscapesAreDecoded() throws {
        XCTAssertEqual(try parse(#""\"\\\/\b\f\n\r\t\u00e9\u4e2d""#), .string("\"\\/\u{08}\u{0C}\n\r\té中"))
    }

    func testSurrogatePairEscapeDecodesToOneScalar() throws {
        XCTAssertEqual(try parse(#""\ud83d\ude00""#), .string("😀"))
    }

    func testRawMultibyteUTF8IsAccepted() throws {
        XCTAssertEqual(try parse("\"héllo 中文 😀\""), .string("héllo 中文 😀"))
    }

    func testEscapedNULIsAValidStringCharacter() throws {
        // RFC 8259 allows \u0000; only raw control bytes are forbidden.
        XCTAssertEqual(try parse(#""a\u0000b""#), .string("a\u{0}b"))
    }

    func testSameKeyInSiblingObjectsIsAllowed() throws {
        XCTAssertNoThrow(try parse(#"{"a":{"x":1},"b":{"x":2}}"#))
    }

    func testNestingOf64LevelsIsAccepted() throws {
        XCTAssertNoThrow(try parse(String(repeating: "[", count: 64) + String(repeating: "]", count: 64)))
        XCTAssertNoThrow(try parse(String(repeating: #"{"a":"#, count: 63) + "{}" + String(repeating: "}", count: 63)))
    }

    // MARK: rejections

    func testByteOrderMarkIsRejected() {
        XCTAssertThrowsError(try JSONParser.parse([0xEF, 0xBB, 0xBF] + Array("{}".utf8))) { error in
            XCTAssertEqual((error as? JSONSyntaxError)?.offset, 0)
        }
    }

    func testInvalidUTF8InAStringIsRejected() {
        let quote: UInt8 = 0x22
        assertRejected([quote, 0xC3, 0x28, quote], "bad continuation byte")
        assertRejected([quote, 0xFF, quote], "0xFF never appears in UTF-8")
        assertRejected([quote, 0xC0, 0xAF, quote], "overlong encoding of '/'")
        assertRejected([quote, 0xED, 0xA0, 0x80, quote], "UTF-8-encoded surrogate")
        assertRejected([quote, 0xE4, 0xB8, quote], "truncated multibyte sequence")
        assertRejected([quote, 0xF4, 0x90, 0x80, 0x80, quote], "beyond U+10FFFF")
    }

    func testInvalidUTF8OutsideAStringIsRejected() {
        assertRejected(Array("{".utf8) + [0xC3, 0xA9] + Array("}".utf8), "bytes between members")
    }

    func testRawControlCharacterInAStringIsRejected() {
        assertRejected("\"a\tb\"", "raw tab")
        assertRejected("\"a\nb\"", "raw line feed")
        assertRejected("\"a\rb\"", "raw carriage return")
        assertRejected("\"a\u{1F}b\"", "raw unit separator")
        assertRejected("{\"a\nb\":1}", "raw line feed in a member name")
    }

    func testRawNULInAStringIsRejected() {
        assertRejected([0x22, 0x61, 0x00, 0x62, 0x22], "raw NUL")
        assertRejected(Array(#"{"url":"https://acme.example/"#.utf8) + [0x00] + Array(#""}"#.utf8), "NUL in a job field")
    }

    func testDuplicateKeysAreRejected() {
        assertRejected(#"{"url":"https://a.example/","url":"https://b.example/"}"#, "duplicate url")
        assertRejected(#"{"outer":{"k":1,"k":2}}"#, "duplicate in a nested object")
        assertRejected(#"{"a":1,"\u0061":2}"#, "duplicate spelled with an escape")
    }

    func testDuplicateKeysAreRejectedInLargeObjectsToo() throws {
        // Small objects are checked key by key, larger ones through a set: both must hold.
        let keys = (0..<40).map { "\"k\($0)\":\($0)" }
        XCTAssertNoThrow(try parse("{" + keys.joined(separator: ",") + "}"))
        for (first, second) in [(0, 1), (3, 15), (2, 16), (15, 16), (5, 30), (20, 39)] {
            var members = keys
            members[second] = "\"k\(first)\":0"
            assertRejected("{" + members.joined(separator: ",") + "}", "k\(first) again at member \(second)")
        }
    }

    func testStringsMixingEscapesAndMultibyteTextDecodeExactly() throws {
        let text = #""caf\u00e9 \"x\" \\ é\n→ \ud83d\ude00 end""#
        XCTAssertEqual(try parse(text), .string("café \"x\" \\ é\n→ 😀 end"))
        XCTAssertEqual(try parse(#""plain ascii""#), .string("plain ascii"))
        XCTAssertEqual(try parse(#""""#), .string(""))
        XCTAssertEqual(try parse(#""\"""#), .string("\""))
    }

    func testInvalidUTF8AfterAnEscapeIsRejected() {
        let quote: UInt8 = 0x22
        assertRejected([quote] + Array(#"a\n"#.utf8) + [0xC3, 0x28, quote], "bad continuation after an escape")
        assertRejected([quote] + Array(#"\u00e9"#.utf8) + [0xE4, 0xB8] + Array(#"\n"#.utf8) + [quote],
                       "truncated sequence cut off by an escape")
    }

    func testKeysDifferingOnlyInCaseAreDistinct() throws {
        XCTAssertNoThrow(try parse(#"{"url":1,"URL":2}"#))
    }

    func testLoneSurrogatesAreRejected() {
        assertRejected(#""\ud800""#, "lone high surrogate at the end")
        assertRejected(#""\ud800x""#, "high surrogate followed by a character")
        assertRejected(#""\ud800\u0041""#, "high surrogate followed by a non-surrogate escape")
        assertRejected(#""\udc00""#, "lone low surrogate")
        assertRejected(#""\ude00\ud83d""#, "pair in the wrong order")
    }

    func testTrailingContentIsRejected() {
        assertRejected("{} x", "garbage after the object")
        assertRejected("{}{}", "two documents")
        assertRejected("1 2", "two numbers")
        assertRejected(#"{"a":1}}"#, "extra closing brace")
        assertRejected("{}\u{0}", "trailing NUL")
    }

    func testNestingDeeperThan64LevelsIsRejected() {
        assertRejected(String(repeating: "[", count: 65) + String(repeating: "]", count: 65), "65 arrays")
        assertRejected(String(repeating: #"{"a":"#, count: 64) + "{}" + String(repeating: "}", count: 64), "65 objects")
        assertRejected(String(repeating: "[", count: 100_000), "a deep bomb must not overflow the stack")
    }

    func testTruncatedInputIsRejected() {
        for text in ["", " ", "{", #"{"a""#, #"{"a":"#, #"{"a":1"#, #"{"a":1,"#, "[1,", #"["x""#, #""abc"#,
                     #""\u12"#, #""\"#, "tru", "nul", "-", "1.", "1e", "1e+"] {
            assertRejected(text, "truncated: \(text)")
        }
    }

    func testMalformedSyntaxIsRejected() {
        for text in ["[1,]", #"{"a":1,}"#, "{'a':1}", "{a:1}", "01", "+1", ".5", "1.e3", "NaN", "Infinity",
                     "[1 2]", #"{"a" 1}"#, "// c\n{}", #""\x41""#, "True", "nulls"] {
            assertRejected(text, "malformed: \(text)")
        }
    }
}
