import COutbound

/// Random bytes from the kernel (getrandom(2)): the `jti` of each client assertion.
/// https://man7.org/linux/man-pages/man2/getrandom.2.html
public enum SystemRandom {
    /// `count` random bytes; nil only when the kernel refuses (it does not once booted).
    public static func bytes(_ count: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        let ok = bytes.withUnsafeMutableBytes { outbound_random_bytes($0.baseAddress, $0.count) }
        return ok == 1 ? bytes : nil
    }
}
