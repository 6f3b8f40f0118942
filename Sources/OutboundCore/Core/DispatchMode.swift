/// `run` keeps going until told to stop; `drain` stops when nothing is left to do.
public enum DispatchMode: Sendable, Equatable {
    case run(graceSeconds: Double)
    case drain(maxWaitSeconds: Double?)

    /// How long transfers in flight may finish once a stop is asked for.
    var graceSeconds: Double {
        if case .run(let seconds) = self { return seconds }
        return 10
    }
}
