/// Small helpers for the human-readable tables commands print on a terminal.
enum TextTable {
    /// `text` padded with spaces to `width` characters, on the right unless `right` is set.
    static func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let padding = String(repeating: " ", count: max(0, width - text.count))
        return right ? padding + text : text + padding
    }

    /// An age as an operator reads it: `42s`, `17m`, `5h`, `3d`.
    static func describeAge(_ seconds: Double) -> String {
        let whole = Int(seconds)
        if whole < 120 { return "\(whole)s" }
        if whole < 7200 { return "\(whole / 60)m" }
        if whole < 172_800 { return "\(whole / 3600)h" }
        return "\(whole / 86400)d"
    }
}
