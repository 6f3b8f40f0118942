import OutboundCore

/// `outbound status`: how many jobs are in each folder, how old the oldest is, and the
/// configuration in force.
enum StatusCommand: CommandDefinition {
    static let summary = "show how many jobs are in each folder and the loaded configuration"
    static let options: [OptionSpec] = [.flag("--json"), .flag("--prometheus")]
    static let takesOperands = false

    static let help = """
    Usage: outbound status [--json | --prometheus] [--spool DIR] [--config DIR]

    For each spool folder: how many jobs and how old the oldest is; destinations
    that running processes see as down (circuit open); ordered lanes that are
    blocked (client, orderingKey, the job at fault); then the environment and
    client records Config holds.

    Options:
      --json          one JSON object instead of a table
      --prometheus    the spool's gauges in Prometheus text format (the counters
                      belong to a run process: see run --metrics-file)
    \(HelpText.common)

    Exit status: 0.
    """

    static func execute(_ invocation: Invocation, context: CommandContext) throws(CommandFailure) -> ExitCode {
        let now = SystemClock().now()
        let census = SpoolCensus(spool: Spool(root: invocation.spool), now: now)
        if invocation.has("--prometheus") {
            var open: [String: Int] = [:]
            for entry in DownDestinationsFile.read(spool: Spool(root: invocation.spool)) { open[entry.destination] = 1 }
            let exposition = MetricsExposition(census: census, counters: nil, destinationsOpen: open)
            FileSystem.writeStandardOutput(Array(exposition.text().utf8))
            return .ok
        }
        var configuration: Configuration?
        var configProblem: String?
        do {
            configuration = try ConfigLoader(directory: invocation.config, spoolDirectory: invocation.spool).load()
        } catch {
            configProblem = "\(error)"
        }
        let down = DownDestinationsFile.read(spool: Spool(root: invocation.spool))
        let blockedLanes = LaneMarkers(spool: Spool(root: invocation.spool)).all()
        if invocation.has("--json") {
            var downList: [UInt8] = [UInt8(ascii: "[")]
            for (index, entry) in down.enumerated() {
                var item = JSONObjectWriter()
                item.add("destination", entry.destination)
                item.addTimestamp("until", entry.until)
                item.add("failures", entry.failures)
                item.add("cooldownMs", entry.cooldownMs)
                item.add("process", entry.process)
                if index > 0 { downList.append(UInt8(ascii: ",")) }
                downList += item.finish()
            }
            downList.append(UInt8(ascii: "]"))
            var laneList: [UInt8] = [UInt8(ascii: "[")]
            for (index, entry) in blockedLanes.enumerated() {
                var item = JSONObjectWriter()
                item.add("clientId", entry.lane.clientId)
                item.add("orderingKey", entry.lane.orderingKey)
                item.add("blockedBy", entry.byJob)
                item.addTimestamp("since", entry.at)
                if index > 0 { laneList.append(UInt8(ascii: ",")) }
                laneList += item.finish()
            }
            laneList.append(UInt8(ascii: "]"))
            var folders = JSONObjectWriter()
            for entry in census.entries {
                var folder = JSONObjectWriter()
                folder.add("count", entry.count)
                folder.add("oldestAgeSeconds", entry.oldestAgeSeconds.map { Int($0.rounded(.down)) })
                folders.addRaw(entry.folder.rawValue, json: folder.finish())
            }
            var top = JSONObjectWriter()
            top.add("spool", invocation.spool)
            top.addRaw("folders", json: folders.finish())
            top.add("environment", configuration?.settings.environment.rawValue)
            top.add("clients", configuration?.registry.count)
            top.add("activeClients", configuration?.registry.activeCount)
            top.add("configError", configProblem)
            top.addRaw("destinationsDown", json: downList)
            top.addRaw("lanesBlocked", json: laneList)
            print(String(decoding: top.finish(), as: UTF8.self))
            return .ok
        }
        print("spool \(invocation.spool)")
        print(TextTable.pad("folder", 10) + TextTable.pad("jobs", 8, right: true) + "  oldest")
        for entry in census.entries {
            print(TextTable.pad(entry.folder.rawValue, 10) + TextTable.pad(String(entry.count), 8, right: true) + "  "
                + (entry.oldestAgeSeconds.map(TextTable.describeAge) ?? "-"))
        }
        for entry in down {
            let when = entry.until.map { "until \(Timestamp.format($0))" } ?? "probing now"
            print("destination \(entry.destination) is DOWN (\(entry.failures) failures in a row; \(when); seen by \(entry.process))")
        }
        for entry in blockedLanes {
            print("lane \(entry.lane.orderingKey) of client \(entry.lane.clientId) is BLOCKED by \(entry.byJob) "
                + "(requeue or purge it, then release the lane's jobs in hold/)")
        }
        if let configuration {
            print("config \(invocation.config): environment \(configuration.settings.environment.rawValue), "
                + "\(configuration.registry.count) client records (\(configuration.registry.activeCount) active)")
        } else if let configProblem {
            print("config \(invocation.config): NOT LOADED: \(configProblem)")
        }
        return .ok
    }
}
