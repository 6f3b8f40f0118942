/// One option a command accepts: a flag (`--json`) or an option with a value
/// (`--max-wait SECONDS`, `--client ID`), which may be repeatable (`--rewrite FROM=TO`).
struct OptionSpec {
    /// The option's spelling, with its dashes.
    let name: String
    /// What the value is called in messages (`SECONDS`); nil for a flag.
    let valueName: String?
    /// Whether the option may be given more than once (every value is kept).
    let repeatable: Bool

    /// An option without a value.
    static func flag(_ name: String) -> OptionSpec {
        OptionSpec(name: name, valueName: nil, repeatable: false)
    }

    /// An option with one value; with `repeatable`, every occurrence's value is kept.
    static func value(_ name: String, _ valueName: String, repeatable: Bool = false) -> OptionSpec {
        OptionSpec(name: name, valueName: valueName, repeatable: repeatable)
    }

    var takesValue: Bool { valueName != nil }
}
