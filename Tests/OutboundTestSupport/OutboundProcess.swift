import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The real `outbound` binary, run as a child process: integration tests drive the program an
/// operator runs, not the library.
public final class OutboundProcess: @unchecked Sendable {
    // @unchecked: `process` and the pipes are only touched from the test's thread; the
    // readers append to their buffers under `lock`.
    public let process = Process()
    private let stdoutPipe = Pipe()
    private let stderrPipe = Pipe()
    private let lock = NSLock()
    private var stdoutData = Data()
    private var stderrData = Data()

    /// Where the binary is: beside the test bundle in the build folder (override with $OUTBOUND_BIN).
    public static var binaryURL: URL {
        if let override = ProcessInfo.processInfo.environment["OUTBOUND_BIN"] { return URL(fileURLWithPath: override) }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var folder = executable.deletingLastPathComponent()
        // On Linux the test runner is <build>/debug/OutboundPackageTests.xctest.
        while !FileManager.default.isExecutableFile(atPath: folder.appendingPathComponent("outbound").path),
              folder.path != "/" {
            folder = folder.deletingLastPathComponent()
        }
        return folder.appendingPathComponent("outbound")
    }

    /// Starts `outbound ARGUMENTS` in `directory` with `environment` added to a clean one;
    /// with a `launcher` (e.g. `["/usr/bin/prlimit", "--nofile=200:200"]`), through it.
    public init(_ arguments: [String], directory: URL? = nil, environment: [String: String] = [:],
                launcher: [String] = []) throws {
        if let program = launcher.first {
            process.executableURL = URL(fileURLWithPath: program)
            process.arguments = Array(launcher.dropFirst()) + [Self.binaryURL.path] + arguments
        } else {
            process.executableURL = Self.binaryURL
            process.arguments = arguments
        }
        if let directory { process.currentDirectoryURL = directory }
        var env = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        for (key, value) in environment { env[key] = value }
        process.environment = env
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        process.standardInput = FileHandle.nullDevice
        stdoutPipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self else { return }
            self.lock.lock(); self.stdoutData.append(data); self.lock.unlock()
        }
        stderrPipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self else { return }
            self.lock.lock(); self.stderrData.append(data); self.lock.unlock()
        }
        try process.run()
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    public func signal(_ number: Int32) {
        kill(process.processIdentifier, number)
    }

    /// Waits for the exit; kills the process and returns nil if it takes longer than `timeout`.
    @discardableResult
    public func wait(timeout: TimeInterval = 60) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            finishReading()
            return nil
        }
        process.waitUntilExit()
        finishReading()
        return process.terminationStatus
    }

    private func finishReading() {
        stdoutPipe.fileHandleForReading.readabilityHandler = nil
        stderrPipe.fileHandleForReading.readabilityHandler = nil
        let restOut = stdoutPipe.fileHandleForReading.readDataToEndOfFile()
        let restErr = stderrPipe.fileHandleForReading.readDataToEndOfFile()
        lock.lock()
        stdoutData.append(restOut)
        stderrData.append(restErr)
        lock.unlock()
    }

    public var standardOutput: String {
        lock.lock(); defer { lock.unlock() }
        return String(decoding: stdoutData, as: UTF8.self)
    }

    public var standardError: String {
        lock.lock(); defer { lock.unlock() }
        return String(decoding: stderrData, as: UTF8.self)
    }

    /// The result of a finished run.
    public struct Result: Sendable {
        public let status: Int32?
        public let standardOutput: String
        public let standardError: String

        public init(status: Int32?, standardOutput: String, standardError: String) {
            self.status = status
            self.standardOutput = standardOutput
            self.standardError = standardError
        }
    }

    /// Runs `outbound ARGUMENTS` to completion.
    public static func run(_ arguments: [String], directory: URL? = nil, environment: [String: String] = [:],
                           launcher: [String] = [], timeout: TimeInterval = 60) throws -> Result {
        let child = try OutboundProcess(arguments, directory: directory, environment: environment, launcher: launcher)
        let status = child.wait(timeout: timeout)
        return Result(status: status, standardOutput: child.standardOutput, standardError: child.standardError)
    }
}
