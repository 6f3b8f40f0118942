import Glibc

/// Parses a Retry-After header (RFC 9110 §10.2.3): either delay-seconds or an HTTP-date.
public enum RetryAfter {
    /// The delay in milliseconds from `now`, or nil when the value is neither form.
    /// A date in the past gives 0.
    public static func delayMs(_ value: String, now: Double) -> Int? {
        let trimmed = value.trimmingASCIIWhitespace()
        if !trimmed.isEmpty, trimmed.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            guard let seconds = Int(trimmed) else { return Int.max / 2 }
            return seconds > Int.max / 2000 ? Int.max / 2 : seconds * 1000
        }
        guard let date = parseHTTPDate(trimmed) else { return nil }
        return max(0, Int(((date - now) * 1000).rounded(.up)))
    }

    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    /// Parses the three HTTP-date forms: IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`),
    /// obsolete RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37 1994`).
    public static func parseHTTPDate(_ text: String) -> Double? {
        let tokens = text.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
        var day: Int?, month: Int?, year: Int?, clock: String?
        if tokens.count == 6, tokens[5] == "GMT" {
            // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
            day = Int(tokens[1]); month = monthNumber(tokens[2]); year = Int(tokens[3]); clock = tokens[4]
        } else if tokens.count == 4, tokens[3] == "GMT" {
            // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
            let parts = tokens[1].split(separator: "-").map(String.init)
            guard parts.count == 3, let shortYear = Int(parts[2]) else { return nil }
            day = Int(parts[0]); month = monthNumber(parts[1]); clock = tokens[2]
            year = parts[2].count == 2 ? (shortYear < 70 ? 2000 + shortYear : 1900 + shortYear) : shortYear
        } else if tokens.count == 5 {
            // asctime: Sun Nov  6 08:49:37 1994
            month = monthNumber(tokens[1]); day = Int(tokens[2]); clock = tokens[3]; year = Int(tokens[4])
        }
        guard let day, let month, let year, let clock else { return nil }
        let clockParts = clock.split(separator: ":").compactMap { Int($0) }
        guard clockParts.count == 3, clockParts[0] < 24, clockParts[1] < 60, clockParts[2] <= 60,
              (1...31).contains(day), let days = Timestamp.daysSinceEpoch(year: year, month: month, day: day) else { return nil }
        return Double(days * 86400 + clockParts[0] * 3600 + clockParts[1] * 60 + min(clockParts[2], 59))
    }

    private static func monthNumber(_ name: String) -> Int? {
        months.firstIndex(of: name.lowercased()).map { $0 + 1 }
    }
}
