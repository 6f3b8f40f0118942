/// Writes the Prometheus text exposition format (version 0.0.4) of contract section 11: the
/// spool's gauges from a `SpoolCensus`, and a process's counters when there is one.
/// https://prometheus.io/docs/instrumenting/exposition_formats/
public struct MetricsExposition {
    public let census: SpoolCensus
    /// nil for `status --prometheus`: a process that delivers nothing has no counters, so the
    /// counter families are printed with their HELP and TYPE and no samples.
    public let counters: MetricsRegistry.Snapshot?
    /// `outbound_destination_open`: from the process's own audit lines (its counters), or,
    /// for `status`, what the running processes record as down in `.state/destinations/`.
    public let destinationsOpen: [String: Int]

    public init(census: SpoolCensus, counters: MetricsRegistry.Snapshot?, destinationsOpen: [String: Int]? = nil) {
        self.census = census
        self.counters = counters
        self.destinationsOpen = destinationsOpen ?? counters?.destinationsOpen ?? [:]
    }

    public func text() -> String {
        var out = ""
        family(&out, "outbound_jobs", "gauge", "Jobs in each spool folder.")
        for entry in census.entries { out += "outbound_jobs{folder=\"\(entry.folder.rawValue)\"} \(entry.count)\n" }
        family(&out, "outbound_oldest_job_age_seconds", "gauge", "Age of the oldest job in each spool folder (0 when empty).")
        for entry in census.entries {
            out += "outbound_oldest_job_age_seconds{folder=\"\(entry.folder.rawValue)\"} \(Self.number(entry.oldestAgeSeconds ?? 0))\n"
        }
        family(&out, "outbound_outcomes_total", "counter", "Outcomes written to the audit log by this process, by outcome and reason code.")
        if let counters {
            for (key, count) in counters.outcomes.sorted(by: { $0.key < $1.key }) {
                out += "outbound_outcomes_total{outcome=\"\(Self.escape(key.outcome))\",reason=\"\(Self.escape(key.reason))\"} \(count)\n"
            }
        }
        family(&out, "outbound_attempts_total", "counter",
               "Attempts finished by this process, by result: the status class (2xx, 4xx, 5xx) or the transport error class.")
        if let counters {
            for (result, count) in counters.attempts.sorted(by: { $0.key < $1.key }) {
                out += "outbound_attempts_total{result=\"\(Self.escape(result))\"} \(count)\n"
            }
        }
        family(&out, "outbound_attempt_duration_seconds", "histogram", "Duration of finished attempts.")
        if let counters {
            for (index, bound) in MetricsRegistry.durationBuckets.enumerated() {
                out += "outbound_attempt_duration_seconds_bucket{le=\"\(Self.number(bound))\"} \(counters.durationCounts[index])\n"
            }
            out += "outbound_attempt_duration_seconds_bucket{le=\"+Inf\"} \(counters.durationCount)\n"
            out += "outbound_attempt_duration_seconds_sum \(Self.number(counters.durationSum))\n"
            out += "outbound_attempt_duration_seconds_count \(counters.durationCount)\n"
        }
        family(&out, "outbound_transfers_in_flight", "gauge", "Transfers this process has on the wire.")
        if let counters { out += "outbound_transfers_in_flight \(counters.transfersInFlight)\n" }
        family(&out, "outbound_destination_open", "gauge", "1 while a destination's circuit is open (scheme://host:port).")
        for (destination, open) in destinationsOpen.sorted(by: { $0.key < $1.key }) {
            out += "outbound_destination_open{destination=\"\(Self.escape(destination))\"} \(open)\n"
        }
        family(&out, "outbound_token_requests_total", "counter", "OAuth token requests, by client and result.")
        if let counters {
            for (key, count) in counters.tokenRequests.sorted(by: { $0.key < $1.key }) {
                out += "outbound_token_requests_total{client=\"\(Self.escape(key.client))\",result=\"\(Self.escape(key.result))\"} \(count)\n"
            }
        }
        return out
    }

    private func family(_ out: inout String, _ name: String, _ type: String, _ help: String) {
        out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    /// A label value with the exposition format's escapes (backslash, quote, newline).
    static func escape(_ value: String) -> String {
        var escaped = ""
        for character in value {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// A sample value: integers without a fraction, others with up to three decimals.
    static func number(_ value: Double) -> String {
        if value == value.rounded() && abs(value) < 1e15 { return String(Int(value)) }
        return String((value * 1000).rounded() / 1000)
    }
}
