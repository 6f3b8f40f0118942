import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The real `outbound` binary, run as a child process: integration tests drive the program an
/// operator runs, not the library.
public final class OutboundProcess: @unchecked Sendable {
    // @unchecked: `process` and the pipes are only touched from the test's thread; the
    // reader threads append to their buffers under `lock`.
    public let process = Process()
    private let stdoutPipe = Pipe()
    private let stderrPipe = Pipe()
    private let lock = NSLock()
    private var stdoutData = Data()
    private var stderrData = Data()
    private let readers = DispatchGroup()

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

    /// Starts `outbound ARGUMENTS` in `directory` with `environment` added to a clean one.
    public init(_ arguments: [String], directory: URL? = nil, environment: [String: String] = [:], input: Data? = nil) throws {
        process.executableURL = Self.binaryURL
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        var env = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        for (key, value) in environment { env[key] = value }
        process.environment = env
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        let inputPipe = input.map { _ in Pipe() }
        process.standardInput = inputPipe ?? FileHandle.nullDevice
        try process.run()
        startReading(stdoutPipe, isStandardError: false)
        startReading(stderrPipe, isStandardError: true)
        if let inputPipe, let input {
            // Written on a thread of its own: a large input must not wait for the child to read.
            let writer = inputPipe.fileHandleForWriting
            Thread.detachNewThread {
                writer.write(input)
                try? writer.close()
            }
        }
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

    /// Reads `pipe` to its end on a thread of its own, with plain blocking reads. Not with
    /// `readabilityHandler`: on Linux its dispatch source can outlive the descriptor
    /// Foundation closes, and libdispatch's event loop then crashes the whole test process
    /// (seen with many short-lived children in the operator race test).
    private func startReading(_ pipe: Pipe, isStandardError: Bool) {
        readers.enter()
        let handle = pipe.fileHandleForReading
        Thread.detachNewThread { [self] in
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                lock.lock()
                if isStandardError { stderrData.append(data) } else { stdoutData.append(data) }
                lock.unlock()
            }
            readers.leave()
        }
    }

    /// Waits for both readers to reach the end of their pipes (the child has exited, so they
    /// get there at once unless it left a descendant holding them: then after 5 s at most).
    private func finishReading() {
        _ = readers.wait(timeout: .now() + 5)
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
                           timeout: TimeInterval = 60, input: Data? = nil) throws -> Result {
        let child = try OutboundProcess(arguments, directory: directory, environment: environment, input: input)
        let status = child.wait(timeout: timeout)
        return Result(status: status, standardOutput: child.standardOutput, standardError: child.standardError)
    }
}
