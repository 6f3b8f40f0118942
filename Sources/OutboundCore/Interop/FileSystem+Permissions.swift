import Glibc

extension FileSystem {
    /// The permission bits of `path` (following a symbolic link, as a reader would), from
    /// stat(2); nil when it cannot be stat'ed. https://man7.org/linux/man-pages/man2/stat.2.html
    public static func permissions(of path: String) -> UInt32? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return UInt32(info.st_mode) & 0o7777
    }
}
