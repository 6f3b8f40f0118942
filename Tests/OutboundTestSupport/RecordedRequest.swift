import Foundation

/// One HTTP header field exactly as it was received (or as it is to be sent): original case,
/// value with surrounding whitespace trimmed.
public struct HTTPHeaderField: Sendable, Equatable {
    /// The field name in its original case, e.g. "Idempotency-Key".
    public let name: String
    /// The field value without leading or trailing spaces and tabs.
    public let value: String

    /// A header field with the given name and value.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// One request the loopback server received, recorded before the server acted on it.
public struct RecordedRequest: Sendable {
    /// The method token as received, e.g. "POST".
    public let method: String
    /// The request-target exactly as received, e.g. "/hooks/a?x=1".
    public let target: String
    /// The header fields in received order, with their original case.
    public let headers: [HTTPHeaderField]
    /// The body, byte for byte (de-chunked when it came with `Transfer-Encoding: chunked`).
    public let body: [UInt8]
    /// 1, 2, 3… in the order the server accepted TCP connections: requests with the same
    /// ID came over the same connection, which proves keep-alive reuse.
    public let connectionID: Int
    /// When the server finished reading the request.
    public let receivedAt: Date

    /// A recorded request; the server builds these, tests may build them to unit-test handlers.
    public init(method: String, target: String, headers: [HTTPHeaderField], body: [UInt8],
                connectionID: Int, receivedAt: Date = Date()) {
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
        self.connectionID = connectionID
        self.receivedAt = receivedAt
    }

    /// The value of the first header field called `name` (compared case-insensitively), or nil.
    public func header(_ name: String) -> String? {
        headers.first { asciiCaseInsensitiveEqual($0.name, name) }?.value
    }

    /// The values of every header field called `name` (compared case-insensitively), in received order.
    public func headers(named name: String) -> [String] {
        headers.filter { asciiCaseInsensitiveEqual($0.name, name) }.map(\.value)
    }

    /// The body decoded as UTF-8 (invalid sequences become U+FFFD).
    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// The path part of the target: everything before the first "?" (and before any "#").
    public var path: String {
        let end = target.firstIndex { $0 == "?" || $0 == "#" } ?? target.endIndex
        return String(target[..<end])
    }
}

/// True when `a` and `b` are equal ignoring ASCII case (header names are ASCII tokens).
func asciiCaseInsensitiveEqual(_ a: String, _ b: String) -> Bool {
    let x = a.utf8, y = b.utf8
    guard x.count == y.count else { return false }
    for (p, q) in zip(x, y) where p != q {
        let lp = (p >= 0x41 && p <= 0x5A) ? p | 0x20 : p
        let lq = (q >= 0x41 && q <= 0x5A) ? q | 0x20 : q
        if lp != lq { return false }
    }
    return true
}
