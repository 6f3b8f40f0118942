/// Which audit lines `outbound audit tail` shows, and how a line reads for a person:
/// `2026-03-02T10:00:00.123Z delivered  job=a1 client=acme attempt=1 POST https://… status=200 ms=12`.
public struct AuditTailFilter: Sendable {
    public var job: String?
    public var client: String?
    public var events: Set<String> = []
    /// Seconds since the epoch: lines older are left out.
    public var since: Double?

    public init(job: String? = nil, client: String? = nil, events: Set<String> = [], since: Double? = nil) {
        self.job = job
        self.client = client
        self.events = events
        self.since = since
    }

    /// The line's members when it is shown; nil when a filter leaves it out or it is not JSON.
    public func members(of line: UnsafeRawBufferPointer) -> [(key: String, value: JSONValue)]? {
        guard case .object(let members)? = try? JSONParser.parse(Array(line)) else { return nil }
        func text(_ key: String) -> String? {
            guard case .string(let value)? = members.first(where: { $0.key == key })?.value else { return nil }
            return value
        }
        if let job, text("job") != job { return nil }
        if let client, text("clientId") != client { return nil }
        if !events.isEmpty, !events.contains(text("event") ?? "") { return nil }
        if let since, (text("ts").flatMap(Timestamp.parse) ?? 0) < since { return nil }
        return members
    }

    /// One readable line: time, event, then the other members as `key=value` (the URL and
    /// method bare, the message last), without the chain's `seq` and `prev`.
    public static func readable(_ members: [(key: String, value: JSONValue)]) -> String {
        func text(_ value: JSONValue) -> String {
            switch value {
            case .string(let string): return string
            case .number(let number): return number
            case .bool(let flag): return flag ? "true" : "false"
            case .null: return "null"
            case .array: return "[…]"
            case .object: return "{…}"
            }
        }
        var lookup: [String: JSONValue] = [:]
        for member in members { lookup[member.key] = member.value }
        var parts: [String] = [lookup["ts"].map(text) ?? "-"]
        let event = lookup["event"].map(text) ?? "-"
        parts.append(event.count < 10 ? event + String(repeating: " ", count: 10 - event.count) : event)
        let skipped: Set<String> = ["ts", "event", "seq", "prev", "message", "method", "url"]
        for member in members where !skipped.contains(member.key) {
            let key = member.key == "clientId" ? "client" : member.key
            parts.append("\(key)=\(text(member.value))")
        }
        if let method = lookup["method"] { parts.append(text(method)) }
        if let url = lookup["url"] { parts.append(text(url)) }
        if let message = lookup["message"] { parts.append("- \(text(message))") }
        return parts.joined(separator: " ")
    }

    /// Reads a duration as `90d`, `12h`, `30m`, `45s` (or plain seconds); nil otherwise.
    public static func parseDuration(_ text: String) -> Double? {
        let units: [Character: Double] = ["d": 86_400, "h": 3_600, "m": 60, "s": 1]
        var number = Substring(text)
        var scale = 1.0
        if let unit = number.last, let factor = units[unit] {
            scale = factor
            number = number.dropLast()
        }
        guard let value = Double(number), value >= 0, value.isFinite else { return nil }
        return value * scale
    }
}
