/// The types of the core's end decision (`DispatchCore.endDecision`).
extension DispatchCore {
    /// What the shell's threads know that the core cannot see, for the end decision.
    struct ShellFacts {
        /// The intake's last full pass over incoming/ found nothing and it holds nothing.
        var intakeIdle: Bool
        /// Every audit line is on disk and every move they describe has been made.
        var auditSettled: Bool
        /// How many requested intake passes have been answered.
        var answeredPasses: Int
    }

    /// Whether the loop should go on after this pass.
    enum EndDecision: Equatable {
        case keepGoing
        /// Nothing is scheduled: look in deferred/ (`deferredFound`) and ask again.
        case scanDeferredFolderFirst
        /// Ask the intake for one last full pass, then ask again once it is answered.
        case requestLastPass
        case end(DispatchSummary.Ending)
    }
}
