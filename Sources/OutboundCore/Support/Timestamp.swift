import Glibc

/// RFC 3339 timestamps, written and read without Foundation's formatters (which are slow and
/// lenient): the audit log writes one per line.
public enum Timestamp {
    /// `2026-11-29T03:39:44.123Z`: UTC with milliseconds, the audit log's `ts`.
    public static func format(_ seconds: Double) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        append(seconds, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Writes the same text as `format` straight into a byte buffer (audit lines are built
    /// as bytes, one per job event, so this avoids building Strings on the hot path).
    public static func append(_ seconds: Double, to bytes: inout [UInt8]) {
        // Truncate the whole instant to milliseconds, allowing half a microsecond for the
        // binary representation: .123 is stored as 0.12299990…, which must print as .123.
        let totalMillis = Int64((seconds * 1000 + 0.0005).rounded(.down))
        var (quotient, remainder) = totalMillis.quotientAndRemainder(dividingBy: 1000)
        if remainder < 0 {
            quotient -= 1
            remainder += 1000
        }
        let days = quotient >= 0 ? quotient / 86400 : (quotient - 86399) / 86400
        let secondOfDay = Int(quotient - days * 86400)
        let (year, month, day) = civilDate(daysSinceEpoch: Int(days))
        // Composed in 24 bytes on the stack and appended at once: one append per character
        // cost more than the arithmetic.
        var text: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &text) { buffer in
            var position = 0
            func digits(_ value: Int, _ width: Int) {
                var rest = value
                for offset in stride(from: width - 1, through: 0, by: -1) {
                    buffer[position + offset] = UInt8(ascii: "0") + UInt8(rest % 10)
                    rest /= 10
                }
                position += width
            }
            func mark(_ character: Unicode.Scalar) {
                buffer[position] = UInt8(ascii: character)
                position += 1
            }
            digits(year, 4)
            mark("-")
            digits(month, 2)
            mark("-")
            digits(day, 2)
            mark("T")
            digits(secondOfDay / 3600, 2)
            mark(":")
            digits(secondOfDay / 60 % 60, 2)
            mark(":")
            digits(secondOfDay % 60, 2)
            mark(".")
            digits(Int(remainder), 3)
            mark("Z")
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[..<position]))
        }
    }

    /// The civil (proleptic Gregorian) date of a day counted from 1970-01-01: the inverse of
    /// `daysSinceEpoch` (Howard Hinnant's algorithm), cheaper than `gmtime_r` per audit line.
    static func civilDate(daysSinceEpoch days: Int) -> (year: Int, month: Int, day: Int) {
        let shifted = days + 719468
        let era = (shifted >= 0 ? shifted : shifted - 146096) / 146097
        let dayOfEra = shifted - era * 146097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Parses an RFC 3339 date-time (`2026-11-29T03:39:44Z`, `...44.5+01:00`); nil if malformed.
    public static func parse(_ text: String) -> Double? {
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ digits: Int) -> Int? {
            guard index + digits <= bytes.count else { return nil }
            var value = 0
            for _ in 0..<digits {
                let byte = bytes[index]
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
                index += 1
            }
            return value
        }
        func expect(_ characters: String) -> Bool {
            guard index < bytes.count, characters.utf8.contains(bytes[index]) else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
              expect("Tt "), let hour = number(2), expect(":"), let minute = number(2), expect(":"),
              let second = number(2) else { return nil }
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second <= 60 else { return nil }
        var fraction = 0.0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var scale = 0.1
            let start = index
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                fraction += Double(bytes[index] - 0x30) * scale
                scale /= 10
                index += 1
            }
            guard index > start else { return nil }
        }
        var offset = 0
        if expect("Zz") {
            offset = 0
        } else if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            let sign = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            index += 1
            guard let offsetHours = number(2), expect(":"), let offsetMinutes = number(2),
                  offsetHours < 24, offsetMinutes < 60 else { return nil }
            offset = sign * (offsetHours * 3600 + offsetMinutes * 60)
        } else {
            return nil
        }
        guard index == bytes.count else { return nil }
        guard let days = daysSinceEpoch(year: year, month: month, day: day) else { return nil }
        let seconds = Double(days * 86400 + hour * 3600 + minute * 60 + min(second, 59) - offset)
        return seconds + fraction
    }

    /// Days from 1970-01-01 to a civil date (Howard Hinnant's algorithm); nil for 31 February.
    static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int? {
        let monthLengths = [31, (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard day <= monthLengths[month - 1] else { return nil }
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146097 + dayOfEra - 719468
    }
}
