import OutboundCore

/// What `requeue`, `hold` and `release` share: find the jobs (named, or in bulk by folder and
/// filter), check everything before moving anything, then move them with `OperatorMover`.
enum OperatorMoving {
    static let bulkOptions: [OptionSpec] = [
        .value("--client", "ID"), .value("--reason", "REASON"), .value("--older-than", "DURATION"), .flag("--dry-run"),
    ]

    /// `bulkFolders` are the folders a bulk form takes jobs from (nil: the command was named
    /// with JOB arguments only).
    static func run(_ action: OperatorAction, _ invocation: Invocation, bulkFolders: [SpoolFolder]?) throws(CommandFailure) -> ExitCode {
        let spool = invocation.spoolTree
        let arguments = try invocation.jobArguments()
        let verb = "outbound \(action.rawValue)"
        let jobs: [SpoolJob]
        let isBulk = bulkFolders != nil
        if let bulkFolders {
            guard arguments.isEmpty else {
                throw CommandFailure(code: .usage, message: "\(action.rawValue): name jobs or select them in bulk, not both (see \(verb) --help)")
            }
            for folder in bulkFolders where !action.sources.contains(folder) {
                throw CommandFailure(code: .dataError, message: "\(action.rawValue) takes jobs only from "
                    + action.sources.map { "\($0.rawValue)/" }.joined(separator: ", ") + ", not from \(folder.rawValue)/")
            }
            let filter = try invocation.jobFilter(now: SystemClock().now())
            jobs = JobSelector(spool: spool).select(from: bulkFolders, filter: filter)
        } else {
            guard !arguments.isEmpty else {
                throw CommandFailure(code: .usage, message: "\(action.rawValue) needs JOB arguments or a bulk selection (see \(verb) --help)")
            }
            let named = NamedJobs(arguments, spool: spool, allowed: action.sources, verb: action.rawValue)
            if !named.problems.isEmpty {
                for problem in named.problems.dropLast() { FileSystem.writeStandardError("outbound: \(problem)\n") }
                throw CommandFailure(code: named.code, message: named.problems.last! + (named.problems.count > 1 || arguments.count > 1
                    ? "; nothing was moved" : ""))
            }
            jobs = named.jobs
        }
        let output = BufferedOutput()
        defer { output.flush() }
        if invocation.has("--dry-run") {
            if !isBulk { for job in jobs { output.line("would \(action.rawValue) \(job.displayName)") } }
            output.line("would \(action.rawValue) \(jobs.count) job\(jobs.count == 1 ? "" : "s") (dry run: nothing moved)")
            return .ok
        }
        try invocation.prepareSpool()
        let audit = try invocation.openOperatorAudit()
        let mover = OperatorMover(spool: spool, audit: audit)
        var moved = 0
        var claimed = 0
        var failed = 0
        do {
            try mover.perform(action, on: jobs) { outcome in
                switch outcome {
                case .moved(let job, let name):
                    moved += 1
                    if !isBulk {
                        output.line("\(action.pastTense) \(job.displayName) -> \(action.destination.rawValue)/\(name)")
                    }
                case .claimedMeanwhile(let job):
                    claimed += 1
                    FileSystem.writeStandardError("outbound: \(job.displayName) was claimed by a dispatcher (or moved) "
                        + "before it could be \(action.pastTense); it was left alone\n")
                case .failed(let job, let why):
                    failed += 1
                    FileSystem.writeStandardError("outbound: \(job.displayName) was not \(action.pastTense): \(why)\n")
                }
            }
        } catch {
            output.flush()
            throw CommandFailure(code: .ioError, message: "cannot write the audit log: \(error); \(moved) job(s) were "
                + "\(action.pastTense) before it failed, the rest stay where they were")
        }
        if isBulk {
            var line = "\(action.pastTense) \(moved) job\(moved == 1 ? "" : "s")"
            if claimed > 0 { line += "; \(claimed) claimed by a dispatcher meanwhile, left alone" }
            if failed > 0 { line += "; \(failed) failed (see above)" }
            output.line(line)
        }
        if failed > 0 { return .ioError }
        // A named job a dispatcher took first was not moved: the operator should look again.
        if claimed > 0 && !isBulk { return .dataError }
        return .ok
    }
}
