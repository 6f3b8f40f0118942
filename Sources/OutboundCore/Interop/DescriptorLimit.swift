import Glibc

/// The process's limit on open file descriptors (RLIMIT_NOFILE). Each transfer in flight
/// holds a socket, and the spool, the audit log and libcurl hold a few more: a soft limit
/// below that turns every claim into EMFILE. systemd's default soft limit is 1,024 while
/// `concurrency` may be 4,096. https://man7.org/linux/man-pages/man2/getrlimit.2.html
public enum DescriptorLimit {
    /// Descriptors the process needs besides one per transfer: folders held open, the claim
    /// folder's buckets and lock, the audit log and its head, inotify, signalfd, libcurl's
    /// own, and a margin for job files being read.
    public static let ownUse = 128

    /// Raises the soft limit to the hard one; returns the soft limit now in force.
    public static func raiseSoftToHard() -> Int {
        var limit = rlimit()
        guard getrlimit(RLIMIT_NOFILE_VALUE, &limit) == 0 else { return Int.max }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(RLIMIT_NOFILE_VALUE, &raised) == 0 { limit = raised }
        }
        return Int(clamping: limit.rlim_cur)
    }

    /// The concurrency the limit allows for `wanted`: `wanted` when it fits, else what is left
    /// after the process's own needs (at least 1).
    public static func concurrency(wanted: Int, softLimit: Int) -> Int {
        guard softLimit < wanted + ownUse else { return wanted }
        return max(1, softLimit - ownUse)
    }

    private static var RLIMIT_NOFILE_VALUE: __rlimit_resource_t { __rlimit_resource_t(RLIMIT_NOFILE.rawValue) }
}
