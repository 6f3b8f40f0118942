import COutbound

/// How the process asks glibc's allocator to give memory back.
enum MemoryTuning {
    /// Blocks of 1 MiB and more are mapped on their own and unmapped when freed. glibc's
    /// default threshold grows with the largest block freed (up to 32 MiB), so after a burst of
    /// multi-megabyte jobs their bodies stayed on the heap and a `run` process idled at
    /// hundreds of MiB (857 MiB after 100 jobs of 9 MiB, measured with `scripts/bench --big`).
    /// https://man7.org/linux/man-pages/man3/mallopt.3.html
    static func returnLargeBlocksToTheSystem() {
        _ = outbound_set_mmap_threshold(1 << 20)
    }
}
