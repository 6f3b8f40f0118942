/// `replay --rewrite FROM=TO`: a job's URL that starts with FROM is made to start with TO,
/// by replacing the bytes of the `url` member's value in the job's JSON text and nothing else
/// (every other byte, its spacing and member order included, stays as it was).
public struct URLRewrite: Sendable, Equatable {
    public let from: String
    public let to: String

    public init(from: String, to: String) {
        self.from = from
        self.to = to
    }

    /// `FROM=TO`, split at the first `=`; nil when there is none or FROM is empty.
    public init?(argument: String) {
        guard let equals = argument.firstIndex(of: "="), equals != argument.startIndex else { return nil }
        self.init(from: String(argument[..<equals]), to: String(argument[argument.index(after: equals)...]))
    }

    /// `bytes` with the `url` rewritten by the first of `rules` whose FROM it starts with;
    /// nil when no rule applies (or the text has no string `url` member).
    public static func apply(_ rules: [URLRewrite], to bytes: [UInt8]) -> [UInt8]? {
        guard let members = JSONMemberScanner.members(of: bytes),
              let member = members.first(where: { $0.key == "url" }),
              let url = JSONMemberScanner.decodeString(bytes[member.valueRange]),
              let rule = rules.first(where: { url.utf8.starts(with: $0.from.utf8) }) else { return nil }
        let rest = url.utf8.dropFirst(rule.from.utf8.count)
        let rewritten = rule.to + String(decoding: Array(rest), as: UTF8.self)
        var literal: [UInt8] = []
        JSONObjectWriter.appendQuoted(rewritten, to: &literal)
        var result = Array(bytes[..<member.valueRange.lowerBound])
        result.append(contentsOf: literal)
        result.append(contentsOf: bytes[member.valueRange.upperBound...])
        return result
    }
}
