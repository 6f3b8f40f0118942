import Foundation
import OutboundTestSupport
import XCTest

/// Contract section 1: commands, options, environment variables and exit codes.
final class CommandLineTests: IntegrationTestCase {
    func testHelpIsAvailableForEveryCommand() throws {
        let overview = try OutboundProcess.run(["--help"])
        XCTAssertEqual(overview.status, 0)
        for command in ["run", "drain", "status", "validate"] {
            XCTAssertTrue(overview.standardOutput.contains(command))
            let help = try OutboundProcess.run([command, "--help"])
            XCTAssertEqual(help.status, 0, command)
            XCTAssertTrue(help.standardOutput.contains("Usage: outbound \(command)"), help.standardOutput)
        }
    }

    func testUsageErrorsExit64() throws {
        XCTAssertEqual(try OutboundProcess.run(["frobnicate"]).status, 64)
        XCTAssertEqual(try OutboundProcess.run(["drain", "--no-such-option"]).status, 64)
        XCTAssertEqual(try OutboundProcess.run(["drain", "--max-wait", "soon"]).status, 64)
        let noFiles = try OutboundProcess.run(["validate"])
        XCTAssertEqual(noFiles.status, 64)
        XCTAssertTrue(noFiles.standardError.contains("validate"), noFiles.standardError)
    }

    func testBadConfigExits78AndNamesTheFileAndEntry() throws {
        try makeSandbox()
        let clients = sandbox.config.appendingPathComponent("clients.json")
        try Data("""
        {"clients":[{"clientId":"a","application":"A","environment":"non-production","status":"active","endpoints":["http://127.0.0.1:1/"]},
                    {"clientId":"a","application":"B","environment":"non-production","status":"active","endpoints":["http://127.0.0.1:1/"]}]}
        """.utf8).write(to: clients)
        try sandbox.drop("untouched.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/u"))
        let result = try drain(expect: 78)
        XCTAssertTrue(result.standardError.contains("clients.json"), result.standardError)
        XCTAssertTrue(result.standardError.contains("clients[1]"), result.standardError)
        XCTAssertEqual(sandbox.jobs(in: "incoming"), ["untouched.json"], "nothing is claimed with a bad config")

        try Data("{\"environment\":\"non-production\",\"concurency\":4}".utf8).write(to: sandbox.config.appendingPathComponent("outbound.json"))
        let typo = try OutboundProcess.run(["run", "--spool", sandbox.spool.path, "--config", sandbox.config.path])
        XCTAssertEqual(typo.status, 78)
        XCTAssertTrue(typo.standardError.contains("outbound.json") && typo.standardError.contains("concurency"), typo.standardError)
    }

    func testEnvironmentVariablesNameTheSpoolAndConfig() throws {
        try makeSandbox()
        try sandbox.drop("env.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/env"))
        let result = try OutboundProcess.run(["drain"], environment: ["OUTBOUND_SPOOL": sandbox.spool.path, "OUTBOUND_CONFIG": sandbox.config.path])
        XCTAssertEqual(result.status, 0, result.standardError)
        XCTAssertEqual(sandbox.jobs(in: "delivered"), ["env.json"])
    }

    func testStatusCountsEachFolder() throws {
        try makeSandbox()
        _ = try sandbox.replay(fixtureSet: "mixed", baseURL: server.baseURL)
        try drain()
        try sandbox.drop("waiting.json", job: SpoolSandbox.job(url: "\(server.baseURL)/hooks/w"))
        let status = try OutboundProcess.run(["status", "--json", "--spool", sandbox.spool.path, "--config", sandbox.config.path])
        XCTAssertEqual(status.status, 0)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(status.standardOutput.utf8)) as? [String: Any])
        let folders = try XCTUnwrap(object["folders"] as? [String: [String: Any]])
        XCTAssertEqual(folders["delivered"]?["count"] as? Int, 3)
        XCTAssertEqual(folders["refused"]?["count"] as? Int, 1)
        XCTAssertEqual(folders["corrupt"]?["count"] as? Int, 1)
        XCTAssertEqual(folders["incoming"]?["count"] as? Int, 1)
        XCTAssertNotNil(folders["incoming"]?["oldestAgeSeconds"] as? Int)
        XCTAssertEqual(object["environment"] as? String, "non-production")
        XCTAssertEqual(object["clients"] as? Int, 3)

        let table = try OutboundProcess.run(["status", "--spool", sandbox.spool.path, "--config", sandbox.config.path])
        XCTAssertEqual(table.status, 0)
        XCTAssertTrue(table.standardOutput.contains("delivered"), table.standardOutput)
        XCTAssertTrue(table.standardOutput.contains("non-production"), table.standardOutput)
    }

    func testValidateReportsEachFileAndSendsNothing() throws {
        try makeSandbox()
        let folder = sandbox.root.appendingPathComponent("check")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let good = folder.appendingPathComponent("good.json")
        try JSONSerialization.data(withJSONObject: SpoolSandbox.job(url: "\(server.baseURL)/hooks/g")).write(to: good)
        let inactive = folder.appendingPathComponent("inactive.json")
        try JSONSerialization.data(withJSONObject: ["clientId": SpoolSandbox.inactiveClient, "url": "\(server.baseURL)/hooks/i"]).write(to: inactive)
        let broken = folder.appendingPathComponent("broken.json")
        try Data("{".utf8).write(to: broken)

        let ok = try OutboundProcess.run(["validate", good.path, "--config", sandbox.config.path])
        XCTAssertEqual(ok.status, 0, ok.standardError)
        XCTAssertTrue(ok.standardOutput.contains("\(good.path): accepted"), ok.standardOutput)

        let mixed = try OutboundProcess.run(["validate", good.path, inactive.path, broken.path, "--config", sandbox.config.path])
        XCTAssertEqual(mixed.status, 65)
        XCTAssertTrue(mixed.standardOutput.contains("\(inactive.path): refused inactive_client_id"), mixed.standardOutput)
        XCTAssertTrue(mixed.standardOutput.contains("\(broken.path): corrupt invalid_json"), mixed.standardOutput)
        XCTAssertEqual(server.requestCount, 0, "validate sends nothing")
    }
}
