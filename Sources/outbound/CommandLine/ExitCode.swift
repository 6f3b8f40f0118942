/// sysexits(3) codes, as the contract lists them.
enum ExitCode: Int32 {
    case ok = 0
    case usage = 64
    case dataError = 65
    case noInput = 66
    case unavailable = 69
    case software = 70
    case cantCreate = 73
    case ioError = 74
    case temporaryFailure = 75
    case configError = 78
}

/// A reason to stop with a message and an exit code.
struct CommandFailure: Error {
    let code: ExitCode
    let message: String
}
