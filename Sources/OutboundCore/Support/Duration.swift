/// A span of time as operators type it (`90d`, `12h`, `1h30m`, `45s`, `2w`): for `purge
/// --older-than` and the other `--older-than` filters.
public enum OperatorDuration {
    /// What was wrong with the text, for a usage message.
    public struct Problem: Error, Sendable, CustomStringConvertible {
        public let text: String
        public var description: String {
            "'\(text)' is not a duration: use a number and a unit, s m h d or w (for example 90d, 12h, 1h30m)"
        }
    }

    /// The number of seconds `text` stands for.
    public static func seconds(_ text: String) throws(Problem) -> Double {
        var total = 0.0
        var digits = ""
        var sawUnit = false
        for character in text {
            if character.isASCII, character.isNumber {
                digits.append(character)
                continue
            }
            guard let value = Double(digits), !digits.isEmpty else { throw Problem(text: text) }
            let unit: Double
            switch character {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86400
            case "w": unit = 604_800
            default: throw Problem(text: text)
            }
            total += value * unit
            digits = ""
            sawUnit = true
        }
        guard sawUnit, digits.isEmpty, total.isFinite else { throw Problem(text: text) }
        return total
    }
}
