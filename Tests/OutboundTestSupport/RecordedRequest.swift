import Foundation

/// One header line as received.
public struct HTTPHeaderField: Sendable, Equatable {
    public let name: String
    public let value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// A request the loopback server received, byte for byte.
public struct RecordedRequest: Sendable {
    public let method: String
    /// The request-target as received, e.g. "/hooks/a?x=1".
    public let target: String
    /// Header lines in received order, original case.
    public let headers: [HTTPHeaderField]
    public let body: [UInt8]
    /// 1, 2, 3… per accepted TCP connection: equal IDs prove keep-alive reuse.
    public let connectionID: Int
    public let receivedAt: Date

    /// The first value of a header, case-insensitively.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    /// Every value of a header, case-insensitively.
    public func headers(named name: String) -> [String] {
        headers.filter { $0.name.caseInsensitiveCompare(name) == .orderedSame }.map(\.value)
    }

    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// The target without its query string.
    public var path: String { String(target.split(separator: "?", maxSplits: 1).first ?? "") }
}

/// What the server does with a request.
public enum ServerAction: Sendable {
    case respond(status: Int, headers: [HTTPHeaderField] = [], body: String = "")
    /// Sleep, then respond.
    case respondAfter(milliseconds: Int, status: Int, headers: [HTTPHeaderField] = [])
    /// Read the whole request, then close without answering.
    case closeWithoutResponse
    /// Read the request, then close with SO_LINGER {1, 0} so the client gets a RST.
    case reset
    /// Send a status line with Content-Length 100 and only 10 body bytes, then close.
    case truncatedResponse
}
