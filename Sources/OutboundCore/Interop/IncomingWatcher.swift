import Glibc

/// inotify on `incoming/`: reports the names of files moved or written into it, so a job is
/// noticed within milliseconds instead of at the next scan.
/// https://man7.org/linux/man-pages/man7/inotify.7.html
public final class IncomingWatcher {
    public let descriptor: Int32
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)

    public init(folder: String) throws {
        descriptor = try systemCall("start inotify for", path: folder) { inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC)) }
        let mask = UInt32(IN_MOVED_TO | IN_CLOSE_WRITE | IN_CREATE)
        do {
            try systemCall("watch", path: folder) { inotify_add_watch(descriptor, folder, mask) }
        } catch {
            close(descriptor)
            throw error
        }
    }

    deinit { close(descriptor) }

    /// What arrived since the last call: names, and whether the kernel's queue overflowed
    /// (then names were lost and the folder must be scanned).
    public func drain() -> (names: [String], overflowed: Bool) {
        var names: [String] = []
        var overflowed = false
        while true {
            let got = buffer.withUnsafeMutableBytes { raw in read(descriptor, raw.baseAddress, raw.count) }
            if got <= 0 { break }
            var offset = 0
            buffer.withUnsafeBytes { raw in
                while offset + MemoryLayout<inotify_event>.size <= got {
                    let event = raw.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
                    let nameStart = offset + MemoryLayout<inotify_event>.size
                    if event.mask & UInt32(IN_Q_OVERFLOW) != 0 { overflowed = true }
                    if event.len > 0 {
                        let nameBytes = UnsafeRawBufferPointer(rebasing: raw[nameStart..<(nameStart + Int(event.len))])
                        let length = nameBytes.firstIndex(of: 0) ?? nameBytes.count
                        names.append(String(decoding: nameBytes[0..<length], as: UTF8.self))
                    }
                    offset = nameStart + Int(event.len)
                }
            }
        }
        return (names, overflowed)
    }
}
