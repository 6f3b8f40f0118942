import COutbound
import Glibc

/// Reads a file line by line in large chunks, through zlib so a gzip file (a rotated audit
/// log compressed by logrotate) is read decompressed and any other file as it is.
/// https://zlib.net/manual.html#Gzip
public final class LineFileReader {
    public let path: String
    private let file: UnsafeMutableRawPointer
    private var buffer: [UInt8]

    public init(path: String, chunkSize: Int = 1 << 20) throws {
        self.path = path
        guard let file = outbound_gz_open(path) else { throw SystemError("open", path: path) }
        self.file = file
        buffer = [UInt8](repeating: 0, count: chunkSize)
    }

    deinit { outbound_gz_close(file) }

    /// Calls `body` with each line (without its newline) and whether it ended with one (only
    /// the file's last line may not); stops early when `body` returns false.
    public func forEachLine(_ body: (UnsafeRawBufferPointer, _ complete: Bool) throws -> Bool) throws {
        var filled = 0
        while true {
            if filled == buffer.count { buffer.append(contentsOf: repeatElement(0, count: buffer.count)) }
            let got = buffer.withUnsafeMutableBytes { raw in
                outbound_gz_read(file, raw.baseAddress! + filled, UInt32(raw.count - filled))
            }
            if got < 0 {
                throw ReadError(path: path, message: String(cString: outbound_gz_error(file)))
            }
            if got == 0 {
                if filled > 0 {
                    _ = try buffer.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[..<filled]), false) }
                }
                return
            }
            filled += Int(got)
            var consumed = 0
            let keepGoing = try buffer.withUnsafeBytes { raw -> Bool in
                let base = raw.baseAddress!
                while consumed < filled {
                    guard let newline = memchr(base + consumed, 0x0A, filled - consumed) else { break }
                    let end = base.distance(to: UnsafeRawPointer(newline))
                    if try !body(UnsafeRawBufferPointer(start: base + consumed, count: end - consumed), true) { return false }
                    consumed = end + 1
                }
                return true
            }
            if !keepGoing { return }
            if consumed > 0 {
                buffer.withUnsafeMutableBytes { raw in
                    _ = memmove(raw.baseAddress!, raw.baseAddress! + consumed, filled - consumed)
                }
                filled -= consumed
            }
        }
    }

    /// zlib could not read the file (a damaged gzip stream, an I/O error).
    public struct ReadError: Error, CustomStringConvertible {
        public let path: String
        public let message: String
        public var description: String { "can't read '\(path)': \(message)" }
    }
}
