import OutboundCore

/// `outbound list`: a line per job, or the age histogram per client.
enum ListCommand: CommandDefinition {
    static let summary = "a line per job: folder, file, id, client, age, attempts, next attempt, reason"
    static let options: [OptionSpec] = [
        .value("--client", "ID"), .value("--reason", "REASON"), .value("--older-than", "DURATION"), .flag("--json"), .flag("--ages"),
    ]
    static let takesOperands = true

    static let help = """
    Usage: outbound list [FOLDER...] [--client ID] [--reason R] [--older-than DURATION]
                         [--json] [--ages]

    One line per job in FOLDER (default: every folder but delivered/ and tmp/): its
    folder, age (since its file was last modified), attempts made, next attempt (in
    deferred/), reason (failed/, refused/, corrupt/), client ID, file name, and its id
    when that is not the file name. Streams: the first lines come at once on a large
    spool. Reads the jobs only; never moves anything.

    Options:
      --client ID            only jobs of this client ID
      --reason R             only jobs whose sidecar has this reason
      --older-than DURATION  only jobs older than DURATION (90d, 12h, 30m)
      --json                 JSON Lines, one object per job, members (absent when
                             unknown or not applicable): folder, file, id, clientId,
                             ageSeconds, modifiedAt, bytes, attempts, nextAttemptAt,
                             firstClaimedAt, reason
      --ages                 instead, qshape's age histogram: per client ID, how many
                             jobs are younger than 1m 5m 10m 20m 40m 80m 160m 320m 640m
                             1280m, and 1280m+ older; with --json one object per client,
                             members clientId (absent on the TOTAL line, which has
                             "total": true), count, buckets (label -> count)
    \(HelpText.common)

    Exit status: 0, 64 a FOLDER that is not a spool folder or a bad duration.
    """

    static func execute(_ invocation: Invocation, context: CommandContext) throws(CommandFailure) -> ExitCode {
        let folders = invocation.operands.isEmpty ? JobListing.defaultFolders : try invocation.spoolFolders(invocation.operands, option: "FOLDER")
        let now = SystemClock().now()
        let filter = try invocation.jobFilter(now: now)
        let listing = JobListing(spool: invocation.spoolTree)
        let output = BufferedOutput()
        defer { output.flush() }
        let json = invocation.has("--json")
        if invocation.has("--ages") {
            var histogram = AgeHistogram()
            listing.forEach(in: folders, filter: filter) { summary in
                histogram.add(clientId: summary.clientId, ageSeconds: max(0, now - (summary.modified ?? now)))
            }
            printHistogram(histogram, json: json, to: output)
            return .ok
        }
        if !json {
            output.line(row(["FOLDER", "AGE", "ATT", "NEXT", "REASON", "CLIENT", "FILE"]))
        }
        listing.forEach(in: folders, filter: filter) { summary in
            json ? output.line(jsonLine(summary, now: now)) : output.line(textLine(summary, now: now))
        }
        if !json {
            // Blocked ordered lanes (contract 14): their later jobs wait in hold/.
            for blocked in LaneMarkers(spool: invocation.spoolTree).all() where filter.clientId == nil || filter.clientId == blocked.lane.clientId {
                output.line("lane \(blocked.lane) is BLOCKED by \(blocked.byJob): requeue or purge it, then release the lane's held jobs")
            }
        }
        return .ok
    }

    private static let widths = [9, 6, 4, 6, 22, 37]

    private static func row(_ cells: [String]) -> String {
        var line = ""
        for (index, cell) in cells.enumerated() {
            line += index < widths.count ? TextTable.pad(cell, widths[index]) + " " : cell
        }
        return line
    }

    private static func textLine(_ summary: JobSummary, now: Double) -> String {
        var next = "-"
        if summary.job.folder == .deferred, let due = summary.state?.nextAttemptAt {
            next = due <= now ? "due" : "+" + TextTable.describeAge(due - now)
        }
        var file = summary.job.name
        if let id = summary.id, id != SpoolMover.originalStem(of: summary.job.name) { file += " (id \(id))" }
        return row([summary.job.folder.rawValue, summary.modified.map { TextTable.describeAge(max(0, now - $0)) } ?? "-",
                    summary.attempts.map(String.init) ?? "-", next, summary.sidecar?.reason ?? "-",
                    summary.clientId ?? "-", file])
    }

    private static func jsonLine(_ summary: JobSummary, now: Double) -> [UInt8] {
        var writer = JSONObjectWriter()
        writer.add("folder", summary.job.folder.rawValue)
        writer.add("file", summary.job.name)
        writer.add("id", summary.id)
        writer.add("clientId", summary.clientId)
        writer.add("ageSeconds", summary.modified.map { Int(max(0, now - $0)) })
        writer.addTimestamp("modifiedAt", summary.modified)
        writer.add("bytes", summary.bytes)
        writer.add("attempts", summary.attempts)
        if summary.job.folder == .deferred { writer.addTimestamp("nextAttemptAt", summary.state?.nextAttemptAt) }
        writer.addTimestamp("firstClaimedAt", summary.state?.firstClaimedAt)
        writer.add("reason", summary.sidecar?.reason)
        return writer.finish()
    }

    private static func printHistogram(_ histogram: AgeHistogram, json: Bool, to output: BufferedOutput) {
        let labels = AgeHistogram.labels
        func object(_ clientId: String?, _ counts: [Int]) -> [UInt8] {
            var buckets = JSONObjectWriter()
            for (label, count) in zip(labels, counts) {
                buckets.addRaw(label, json: Array(String(count).utf8))
            }
            var writer = JSONObjectWriter()
            if let clientId { writer.add("clientId", clientId) } else { writer.add("total", true) }
            writer.add("count", counts.reduce(0, +))
            writer.addRaw("buckets", json: buckets.finish())
            return writer.finish()
        }
        if json {
            output.line(object(nil, histogram.total))
            for client in histogram.clientsByCount { output.line(object(client, histogram.rows[client]!)) }
            return
        }
        func line(_ name: String, _ counts: [Int]) -> String {
            TextTable.pad(name, 37) + TextTable.pad(String(counts.reduce(0, +)), 7, right: true)
                + counts.map { TextTable.pad(String($0), 7, right: true) }.joined()
        }
        output.line(TextTable.pad("", 37) + TextTable.pad("T", 7, right: true) + labels.map { TextTable.pad($0, 7, right: true) }.joined())
        output.line(line("TOTAL", histogram.total))
        for client in histogram.clientsByCount { output.line(line(client.isEmpty ? "(unknown)" : client, histogram.rows[client]!)) }
    }
}
