import OutboundCore

/// One job as `show` presents it: read once, printed as text or JSON. Payload (header values,
/// body, the URL's query) only with `withPayload`.
struct JobView {
    let job: SpoolJob
    let summary: JobSummary
    let decoded: Job?
    let invalid: String?
    let auditLines: [[UInt8]]
    let withPayload: Bool

    init(job: SpoolJob, spool: Spool, decoder: JobDecoder, auditLog: String, withPayload: Bool) {
        self.job = job
        self.withPayload = withPayload
        summary = JobSummary.read(job, spool: spool, stateStore: JobStateStore(spool: spool))
        var decoded: Job?
        var invalid: String?
        if case .contents(let bytes, _, _)? = try? FileSystem.readRegularFile(job.path, limit: 64 << 20) {
            do { decoded = try decoder.decode(bytes, fileName: job.name) } catch { invalid = "\(error)" }
        } else {
            invalid = "the file cannot be read as a regular file"
        }
        self.decoded = decoded
        self.invalid = invalid
        let id = decoded?.id ?? summary.id ?? SpoolMover.originalStem(of: job.name)
        auditLines = AuditLineFinder.lines(forJob: id, inLog: auditLog)
    }

    private var url: String? { decoded.map { withPayload ? $0.url.absoluteString : $0.url.redacted } }

    func text(to output: BufferedOutput) {
        output.line("\(job.displayName)  (\(job.path))")
        if let bytes = summary.bytes { output.line("  bytes        \(bytes)") }
        if let modified = summary.modified { output.line("  modified     \(Timestamp.format(modified))") }
        if let decoded {
            output.line("  id           \(decoded.id)")
            output.line("  clientId     \(decoded.clientId)")
            output.line("  request      \(decoded.method.rawValue) \(url ?? "")")
            if let service = decoded.service { output.line("  service      \(service)") }
            for header in decoded.headers {
                output.line("  header       \(header.name): " + (withPayload ? header.value : describe(Array(header.value.utf8))))
            }
            if let body = decoded.body {
                output.line("  body         " + (withPayload ? String(decoding: body, as: UTF8.self) : describe(body)))
            }
            if let value = decoded.maxAttempts { output.line("  maxAttempts  \(value)") }
            if let value = decoded.timeoutMs { output.line("  timeoutMs    \(value)") }
            if let value = decoded.notAfter { output.line("  notAfter     \(Timestamp.format(value))") }
            if let value = decoded.orderingKey { output.line("  orderingKey  \(value)") }
        } else {
            output.line("  id           \(summary.id ?? "?")")
            if let clientId = summary.clientId { output.line("  clientId     \(clientId)") }
            output.line("  invalid      \(invalid ?? "?")")
        }
        if let state = summary.state {
            output.line("  attempts     \(state.attempts) (first claimed \(Timestamp.format(state.firstClaimedAt)), "
                + "next attempt \(Timestamp.format(state.nextAttemptAt)))")
        }
        if let sidecar = summary.sidecar {
            output.line("  sidecar      " + String(decoding: sidecar.raw, as: UTF8.self).trimmingASCIIWhitespace().replacingNewlines())
        }
        output.line("  audit lines  \(auditLines.count)")
        for line in auditLines { output.line(["    ".utf8.map { $0 }, line].flatMap { $0 }) }
    }

    private func describe(_ bytes: [UInt8]) -> String {
        "(\(bytes.count) bytes, sha256 \(SHA256.hex(bytes)))"
    }

    func json() -> [UInt8] {
        var writer = JSONObjectWriter()
        writer.add("folder", job.folder.rawValue)
        writer.add("file", job.name)
        writer.add("path", job.path)
        writer.add("bytes", summary.bytes)
        writer.addTimestamp("modifiedAt", summary.modified)
        if let decoded {
            var fields = JSONObjectWriter()
            fields.add("id", decoded.id)
            fields.add("clientId", decoded.clientId)
            fields.add("method", decoded.method.rawValue)
            fields.add("url", url)
            fields.add("service", decoded.service)
            var headers: [UInt8] = [UInt8(ascii: "[")]
            for (index, header) in decoded.headers.enumerated() {
                if index > 0 { headers.append(UInt8(ascii: ",")) }
                var item = JSONObjectWriter()
                item.add("name", header.name)
                item.add("length", header.value.utf8.count)
                item.add("sha256", SHA256.hex(Array(header.value.utf8)))
                if withPayload { item.add("value", header.value) }
                headers += item.finish()
            }
            headers.append(UInt8(ascii: "]"))
            fields.addRaw("headers", json: headers)
            if let body = decoded.body {
                var item = JSONObjectWriter()
                item.add("length", body.count)
                item.add("sha256", decoded.bodySha256)
                if withPayload, let text = String(validating: body, as: UTF8.self) { item.add("text", text) }
                fields.addRaw("body", json: item.finish())
            }
            fields.add("maxAttempts", decoded.maxAttempts)
            fields.add("timeoutMs", decoded.timeoutMs)
            fields.addTimestamp("notAfter", decoded.notAfter)
            fields.add("orderingKey", decoded.orderingKey)
            writer.addRaw("job", json: fields.finish())
        } else {
            writer.add("id", summary.id)
            writer.add("clientId", summary.clientId)
            writer.add("invalid", invalid)
        }
        if let state = summary.state {
            var item = JSONObjectWriter()
            item.add("attempts", state.attempts)
            item.addTimestamp("firstClaimedAt", state.firstClaimedAt)
            item.addTimestamp("nextAttemptAt", state.nextAttemptAt)
            writer.addRaw("state", json: item.finish())
        }
        if let sidecar = summary.sidecar, JSONMemberScanner.members(of: sidecar.raw) != nil {
            writer.addRaw("sidecar", json: Array(String(decoding: sidecar.raw, as: UTF8.self).trimmingASCIIWhitespace().utf8))
        }
        var lines: [UInt8] = [UInt8(ascii: "[")]
        for (index, line) in auditLines.enumerated() {
            if index > 0 { lines.append(UInt8(ascii: ",")) }
            lines += line
        }
        lines.append(UInt8(ascii: "]"))
        writer.addRaw("audit", json: lines)
        return writer.finish()
    }
}

extension String {
    func replacingNewlines() -> String {
        String(map { $0 == "\n" ? " " : $0 })
    }
}
