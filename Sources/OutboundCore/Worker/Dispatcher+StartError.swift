extension Dispatcher {
    /// Why a dispatcher could not start.
    public enum StartError: Error, CustomStringConvertible {
        /// The spool's folders or this process's claim folder could not be made.
        case spool(Error)
        /// The audit log could not be opened for appending.
        case auditLog(Error)

        public var description: String {
            switch self {
            case .spool(let error): return "cannot prepare the spool: \(error)"
            case .auditLog(let error): return "cannot open the audit log: \(error)"
            }
        }
    }
}
