import Glibc

/// Wall-clock time as seconds since the Unix epoch. Injected wherever a decision depends on
/// the time (retry schedules, expiry, the 1-second grace) so tests can fix it.
public protocol WallClock: Sendable {
    func now() -> Double
}

/// The real clock: `clock_gettime(CLOCK_REALTIME)`.
public struct SystemClock: WallClock {
    public init() {}
    public func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}

/// Monotonic nanoseconds for measuring durations (never goes back when NTP steps the clock).
public enum MonotonicClock {
    public static func nanoseconds() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }
}

/// The ±20 % factor applied to computed backoff delays, injected so schedules are testable.
public protocol JitterSource: Sendable {
    /// A factor in 0.8...1.2.
    func factor() -> Double
}

/// Uniform jitter from the system random number generator.
public struct RandomJitter: JitterSource {
    public init() {}
    public func factor() -> Double { Double.random(in: 0.8...1.2) }
}

/// No jitter at all (factor 1): for tests and for reproducible schedules.
public struct NoJitter: JitterSource {
    public init() {}
    public func factor() -> Double { 1 }
}
