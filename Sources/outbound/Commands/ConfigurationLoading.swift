import OutboundCore

extension Invocation {
    /// Loads the config folder named on the command line; a bad file is a configuration error
    /// (exit 78) whose message names the file and field.
    func loadConfiguration() throws(CommandFailure) -> Configuration {
        do {
            return try ConfigLoader(directory: config, spoolDirectory: spool).load()
        } catch {
            throw CommandFailure(code: .configError, message: "configuration error: \(error)")
        }
    }
}
