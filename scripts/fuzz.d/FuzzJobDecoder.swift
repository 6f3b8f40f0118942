// libFuzzer harness for Outbound's handling of untrusted job files. Built by scripts/fuzz,
// which compiles this file together with every source of Sources/OutboundCore into one
// module (so `internal` helpers such as Endpoint.isCanonicalPath are reachable) with
// `swiftc -sanitize=fuzzer,address`.
//
// Two kinds of input:
//
//   * anything else: a job file's bytes. JobDecoder.decode runs on them (JSONParser, id,
//     header validation, TargetURLParser, base64, RFC 3339); a decoded job goes through
//     Gate.check against a fixed registry, and an admitted one through RequestBuilder.
//   * `E:<endpoint URL>\n<target URL>`: Endpoint.admits on two arbitrary URLs.
//
// Beyond "no crash, no memory error", it checks the invariants the dispatcher's safety rests
// on, each with an oracle written independently of the code under test, and aborts (which
// libFuzzer records as a crash) when one breaks:
//
//   * a decoded job's id matches [A-Za-z0-9._-]{1,128}; its headers are unique RFC 9110
//     tokens, none reserved, values without CR, LF or NUL; a GET has no body;
//   * its URL is http(s), and the string that is sent (absoluteString) parses again to the
//     very same parts: the gate never checks one reading of a URL and sends another;
//   * an admitted URL has the endpoint's scheme, host and port, a path under the endpoint's
//     at a `/` boundary, and no segment that is or decodes to `.` or `..` (before any `;`),
//     and no encoded `/`, `\` or NUL;
//   * every header line handed to libcurl is free of CR, LF and NUL;
//   * a rejection or refusal message has no control characters (it ends up in one-line
//     `validate` output, sidecars and the audit log).

import Foundation  // the harness only: String searching in its oracles
import Glibc

private let clientIdHeader = "Epic-Client-ID"
private let decoder = JobDecoder(clientIdHeader: clientIdHeader, idempotencyHeader: "Idempotency-Key")
private let reserved: Set<String> = ["host", "content-length", "transfer-encoding", "connection", "expect",
                                     "epic-client-id", "idempotency-key"]

/// The client IDs of the seeds (Tests/Fixtures use the first three).
private let gate: Gate = {
    func endpoint(_ text: String) -> Endpoint {
        do { return Endpoint(url: try TargetURLParser.parse(text)) } catch { fatalError("fuzz harness: endpoint \(text): \(error)") }
    }
    let records = [
        ClientRecord(clientId: "6c12f6ab-2a3e-4f0e-9d7c-1f2e3d4c5b6a", application: "Acme Bed Board", environment: .nonProduction,
                     status: .active, scopes: ["ADT.Notify"],
                     endpoints: [endpoint("http://127.0.0.1:8787/hooks/"), endpoint("https://acme.example/hooks"),
                                 endpoint("http://[::1]:9000/api/v1/"), endpoint("https://acme.example:8443/")]),
        ClientRecord(clientId: "0b5e9a1c-7d2f-4c3a-8e6b-2f1d0c9b8a71", application: "Legacy Feed", environment: .nonProduction,
                     status: .inactive, scopes: nil, endpoints: [endpoint("http://127.0.0.1:8787/hooks/")]),
        ClientRecord(clientId: "9f8e7d6c-5b4a-4392-8170-6e5d4c3b2a19", application: "Pharmacy", environment: .production,
                     status: .active, scopes: nil, endpoints: [endpoint("http://127.0.0.1:8787/hooks/")]),
        ClientRecord(clientId: "a", application: "Any Service", environment: .nonProduction, status: .active, scopes: nil,
                     endpoints: [endpoint("http://127.0.0.1:8787/"), endpoint("http://127.0.0.1:8787/x;y/")]),
    ]
    return Gate(registry: ClientRegistry(records), environment: .nonProduction)
}()

private let builder = RequestBuilder(settings: Settings(environment: .nonProduction, auditLogPath: "/dev/null"))

/// The file name (and so the default id) is picked by the input's last byte.
private let fileNames = ["fuzz.json", "job~1.json", "job~.json", "~1.json", "a~b~2.json", "..json", "bad name.json",
                         String(repeating: "n", count: 128) + ".json", String(repeating: "n", count: 129) + ".json",
                         "x.JSON", "caf\u{e9}.json", ".json"]

private func violated(_ what: String, _ detail: @autoclosure () -> String) -> Never {
    let text = "\nFUZZ INVARIANT VIOLATED: \(what)\n\(detail())\n"
    _ = text.withCString { write(2, $0, strlen($0)) }
    abort()
}

private func hasControl(_ text: String) -> Bool {
    text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
}

// MARK: independent oracles

private func isIdOracle(_ text: String) -> Bool {
    let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-".unicodeScalars)
    let scalars = Array(text.unicodeScalars)
    return (1...128).contains(scalars.count) && scalars.allSatisfy { allowed.contains($0) }
}

private func isTokenOracle(_ text: String) -> Bool {
    let allowed = Set("!#$%&'*+-.^_`|~ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".unicodeScalars)
    return !text.isEmpty && text.unicodeScalars.allSatisfy { allowed.contains($0) }
}

/// Percent-decodes one segment; nil when it holds a malformed escape (`%` not followed by
/// two hex digits), which servers read in different ways.
private func percentDecoded(_ bytes: ArraySlice<UInt8>) -> [UInt8]? {
    func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte - 0x30
        case 0x41...0x46: return byte - 0x41 + 10
        case 0x61...0x66: return byte - 0x61 + 10
        default: return nil
        }
    }
    var out: [UInt8] = []
    var index = bytes.startIndex
    while index < bytes.endIndex {
        if bytes[index] == UInt8(ascii: "%") {
            guard index + 2 < bytes.endIndex, let high = hex(bytes[index + 1]), let low = hex(bytes[index + 2]) else { return nil }
            out.append(high << 4 | low)
            index += 3
        } else {
            out.append(bytes[index])
            index += 1
        }
    }
    return out
}

/// Whether a server that percent-decodes and honours `;` path parameters could read this
/// path as something other than its literal segments: a segment that is or decodes to `.`
/// or `..` (before any `;`), an encoded `/`, `\` or NUL. A segment with a malformed escape
/// is ambiguous only if it could still hide a dot segment or a boundary.
private func pathIsUnambiguous(_ path: String) -> Bool {
    for segment in Array(path.utf8).split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
        guard var name = percentDecoded(segment) else {
            // Malformed escapes: decode what can be decoded and treat the rest as literal.
            let lowered = String(decoding: segment, as: UTF8.self).lowercased()
            if lowered.contains("%2f") || lowered.contains("%5c") || lowered.contains("%00") { return false }
            var literal = lowered.replacingOccurrences(of: "%2e", with: ".").replacingOccurrences(of: "%3b", with: ";")
            if let semicolon = literal.firstIndex(of: ";") { literal = String(literal[..<semicolon]) }
            if literal == "." || literal == ".." { return false }
            continue
        }
        if name.contains(UInt8(ascii: "/")) || name.contains(UInt8(ascii: "\\")) || name.contains(0) { return false }
        if let semicolon = name.firstIndex(of: UInt8(ascii: ";")) { name = Array(name[..<semicolon]) }
        if name == [0x2E] || name == [0x2E, 0x2E] { return false }
    }
    return true
}

/// Endpoint matching by parts, the contract's rule, restated on bytes.
private func admitsOracle(_ endpoint: TargetURL, _ target: TargetURL) -> Bool {
    guard Array(endpoint.scheme.utf8) == Array(target.scheme.utf8), Array(endpoint.host.utf8) == Array(target.host.utf8),
          endpoint.port == target.port else { return false }
    guard pathIsUnambiguous(target.path) else { return false }
    return underPrefix(endpoint, target)
}

/// The target's path equals the endpoint's or lies under it at a `/` boundary, byte for byte.
private func underPrefix(_ endpoint: TargetURL, _ target: TargetURL) -> Bool {
    let path = Array(target.path.utf8), prefix = Array(endpoint.path.utf8)
    if path == prefix { return true }
    let boundary = prefix.last == UInt8(ascii: "/") ? prefix : prefix + [UInt8(ascii: "/")]
    return path.starts(with: boundary)
}

/// The host part of a serialized URL, ASCII-lowercased, without port; nil if unsure.
private func sentHost(_ absolute: String) -> String? {
    guard let marker = absolute.range(of: "://") else { return nil }
    var authority = Array(absolute[marker.upperBound...].utf8.prefix { $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "?") })
    if authority.contains(UInt8(ascii: "@")) || authority.contains(UInt8(ascii: "%")) { return nil }
    if let colon = authority.lastIndex(of: UInt8(ascii: ":")), !authority[colon...].contains(UInt8(ascii: "]")) {
        authority = Array(authority[..<colon])
    }
    return String(decoding: authority.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }, as: UTF8.self)
}

// MARK: checks

/// The URL that is sent parses again to the same parts.
private func checkStable(_ url: TargetURL, _ origin: String) {
    guard url.scheme == "http" || url.scheme == "https" else { violated("scheme is not http(s)", "\(url.scheme) from \(origin.debugDescription)") }
    guard !url.host.isEmpty, url.path.utf8.first == UInt8(ascii: "/") else { violated("empty host or relative path", "\(url) from \(origin.debugDescription)") }
    guard (0...65535).contains(url.port) else { violated("port out of range", "\(url.port) from \(origin.debugDescription)") }
    guard !url.absoluteString.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else {
        violated("the URL sent has white space or a control character", url.absoluteString.debugDescription)
    }
    guard !url.redacted.contains("?"), !url.redacted.contains("#"), !url.redacted.contains("@") || url.path.contains("@") else {
        violated("redacted URL keeps query, fragment or userinfo", "\(url.redacted.debugDescription) from \(origin.debugDescription)")
    }
    if let host = sentHost(url.absoluteString), Array(host.utf8) != Array(url.host.utf8) {
        violated("the host the gate compares is not the host that is sent",
                 "compared \(url.host.debugDescription), sending \(url.absoluteString.debugDescription); input \(origin.debugDescription)")
    }
    let again: TargetURL
    do {
        again = try TargetURLParser.parse(url.absoluteString)
    } catch {
        violated("the URL sent does not parse again", "\(url.absoluteString.debugDescription) (from \(origin.debugDescription)): \(error)")
    }
    // libcurl reports an empty query ("…/?") as "" but serializes the URL without the "?",
    // so the second reading has none: the same request either way.
    func same(_ a: String, _ b: String) -> Bool { Array(a.utf8) == Array(b.utf8) }
    guard same(again.scheme, url.scheme), same(again.host, url.host), again.port == url.port, same(again.path, url.path),
          same(again.query ?? "", url.query ?? ""), same(again.absoluteString, url.absoluteString) else {
        violated("the URL sent parses to other parts than the URL checked",
                 "checked \(url) [\(url.absoluteString.debugDescription)] but sending it reads as \(again) [\(again.absoluteString.debugDescription)]; input \(origin.debugDescription)")
    }
}

private func checkJob(_ job: Job, fileName: String) {
    guard isIdOracle(job.id), JobDecoder.isValidId(job.id) else { violated("invalid id accepted", "\(job.id.debugDescription) (file \(fileName))") }
    var seen = Set<String>()
    for header in job.headers {
        guard isTokenOracle(header.name) else { violated("header name is not a token", header.name.debugDescription) }
        let lowered = header.name.lowercased()
        guard !reserved.contains(lowered) else { violated("reserved header accepted", header.name) }
        guard seen.insert(lowered).inserted else { violated("header given twice accepted", header.name) }
        guard !header.value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) else {
            violated("header value with CR, LF or NUL accepted", header.value.debugDescription)
        }
    }
    if job.method == .get, job.body != nil { violated("GET with a body accepted", job.id) }
    checkStable(job.url, job.url.absoluteString)

    switch gate.check(job) {
    case .allowed(let record):
        guard record.status == .active, record.environment == .nonProduction, record.clientId == job.clientId else {
            violated("gate admitted a record it should not", "\(record.clientId) \(record.status) \(record.environment)")
        }
        if let scopes = record.scopes, !scopes.contains(job.service ?? "\u{0}none") { violated("out-of-scope job admitted", "\(job.service ?? "nil")") }
        guard record.endpoints.contains(where: { admitsOracle($0.url, job.url) }) else {
            violated("gate admitted a URL no endpoint admits by the contract's rule", "\(job.url) [\(job.url.absoluteString.debugDescription)]")
        }
        let request = builder.request(for: job, client: record)
        guard request.url == job.url.absoluteString else { violated("request URL differs from the checked URL", request.url) }
        for line in request.headerLines {
            guard !line.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) else {
                violated("header line with CR, LF or NUL handed to libcurl", line.debugDescription)
            }
            let name = line.prefix { $0 != ":" && $0 != ";" }
            guard isTokenOracle(String(name)) else { violated("header line without a token name", line.debugDescription) }
        }
    case .refused(_, let message):
        guard !hasControl(message) else { violated("refusal message has a control character", message.debugDescription) }
    }
}

private func checkEndpointPair(_ text: String) {
    let lines = text.dropFirst(2).split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
    guard lines.count == 2 else { return }
    guard let endpoint = try? TargetURLParser.parse(String(lines[0])),
          let target = try? TargetURLParser.parse(String(lines[1])) else { return }
    checkStable(endpoint, String(lines[0]))
    checkStable(target, String(lines[1]))
    // Only the unsafe direction is a finding: Endpoint may refuse more than the rule (a
    // truncated escape at the end of the path, say), never admit more.
    if Endpoint(url: endpoint).admits(target), !admitsOracle(endpoint, target) {
        violated("Endpoint.admits is more lenient than the contract's rule",
                 "endpoint \(endpoint) target \(target) [\(target.absoluteString.debugDescription)]")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func outboundFuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: size)) : []
    if bytes.starts(with: Array("E:".utf8)) {
        if let text = String(validating: bytes, as: UTF8.self) { checkEndpointPair(text) }
        return 0
    }
    let fileName = fileNames[Int(bytes.last ?? 0) % fileNames.count]
    do {
        let job = try decoder.decode(bytes, fileName: fileName)
        checkJob(job, fileName: fileName)
    } catch {
        guard !hasControl(error.message) else { violated("rejection message has a control character", error.message.debugDescription) }
        guard !error.message.isEmpty else { violated("empty rejection message", "\(error.reason)") }
    }
    return 0
}
