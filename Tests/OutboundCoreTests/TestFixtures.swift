import XCTest
@testable import OutboundCore

/// Small shared helpers for the unit tests: decoding job text, parsing URLs, building jobs
/// and client records without any I/O.
enum Fixture {
    static let clientId = "6c12f6ab-2a3e-4f0e-9d7c-1f2e3d4c5b6a"

    /// The decoder as the default Config builds it.
    static let decoder = JobDecoder(clientIdHeader: "Epic-Client-ID", idempotencyHeader: "Idempotency-Key")

    /// Decodes `json` as the job file `fileName`, failing the test on a rejection.
    static func job(_ json: String, fileName: String = "job-1.json", decoder: JobDecoder = Fixture.decoder,
                    file: StaticString = #filePath, line: UInt = #line) throws -> Job {
        do {
            return try decoder.decode(Array(json.utf8), fileName: fileName)
        } catch {
            XCTFail("expected the job to decode, got \(error)", file: file, line: line)
            throw error
        }
    }

    /// The rejection `json` earns, or nil (and a test failure) when it decodes.
    static func rejection(_ json: String, fileName: String = "job-1.json", decoder: JobDecoder = Fixture.decoder,
                          file: StaticString = #filePath, line: UInt = #line) -> JobRejection? {
        rejection(bytes: Array(json.utf8), fileName: fileName, decoder: decoder, file: file, line: line)
    }

    static func rejection(bytes: [UInt8], fileName: String = "job-1.json", decoder: JobDecoder = Fixture.decoder,
                          file: StaticString = #filePath, line: UInt = #line) -> JobRejection? {
        do {
            let job = try decoder.decode(bytes, fileName: fileName)
            XCTFail("expected a rejection, but the job decoded (id \(job.id))", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    /// A URL parsed the way jobs and endpoints are.
    static func url(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> TargetURL {
        do {
            return try TargetURLParser.parse(text)
        } catch {
            XCTFail("expected '\(text)' to parse, got \(error)", file: file, line: line)
            throw error
        }
    }

    /// A job built directly, without a file.
    static func job(url: String, clientId: String = Fixture.clientId, service: String? = nil, id: String = "job-1",
                    method: HTTPMethod = .post, headers: [HeaderField] = [], body: [UInt8]? = nil,
                    maxAttempts: Int? = nil, timeoutMs: Int? = nil, notAfter: Double? = nil, orderingKey: String? = nil) throws -> Job {
        Job(id: id, clientId: clientId, url: try self.url(url), method: method, service: service, headers: headers,
            body: body, maxAttempts: maxAttempts, timeoutMs: timeoutMs, notAfter: notAfter, orderingKey: orderingKey)
    }

    static func record(_ clientId: String = Fixture.clientId, application: String = "Acme Bed Board",
                       environment: OutboundCore.Environment = .nonProduction, status: ClientStatus = .active,
                       scopes: Set<String>? = nil, endpoints: [String] = ["https://acme.example/hooks/"],
                       certFile: String? = nil, keyFile: String? = nil) throws -> ClientRecord {
        ClientRecord(clientId: clientId, application: application, environment: environment, status: status,
                     scopes: scopes, endpoints: try endpoints.map { Endpoint(url: try url($0)) },
                     certFile: certFile, keyFile: keyFile)
    }

    /// A fresh, empty folder under the system's temporary directory.
    static func temporaryFolder(_ label: String) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("outbound-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }
}

/// A jitter source that always returns the same factor, so schedules can be checked exactly.
struct FixedJitter: JitterSource {
    let value: Double
    func factor() -> Double { value }
}

/// The transfers among `actions` that the dispatch core started: token and job file name,
/// in order.
func started(_ actions: [DispatchAction]) -> [(token: Int, name: String)] {
    actions.compactMap { if case .startTransfer(let token, let claimed, _) = $0 { return (token, claimed.name) } else { return nil } }
}
