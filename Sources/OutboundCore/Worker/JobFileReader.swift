/// Reads a claimed job file and decodes it: shared by the intake thread (jobs from
/// `incoming/`) and the loop (jobs back from `deferred/`).
enum JobFileReader {
    /// What a claimed file turned out to be.
    enum Outcome {
        case job(Job, inode: UInt64)
        /// Not a valid job. `modified` is the file's mtime when it was read (nil for files that
        /// were not read), for the 1-second grace given to files still being written.
        case corrupt(CorruptReason, message: String, modified: Double?)
    }

    static func read(_ fileName: String, in folder: DirectoryHandle, decoder: JobDecoder, limit: Int) -> Outcome {
        let contents: FileSystem.ReadResult
        do {
            contents = try folder.readRegularFile(fileName, limit: limit)
        } catch {
            return .corrupt(.unsupportedFile, message: "the file cannot be read: \(error)", modified: nil)
        }
        switch contents {
        case .notRegularFile:
            return .corrupt(.unsupportedFile, message: "not a regular file (a symlink, folder or FIFO); jobs must be regular files",
                            modified: nil)
        case .tooLarge(let size, let modified):
            return .corrupt(.tooLarge, message: "the file has \(size) bytes or more; maxJobBytes is \(limit)", modified: modified)
        case .contents(let bytes, let modified, let inode):
            do {
                return .job(try decoder.decode(bytes, fileName: fileName), inode: inode)
            } catch {
                return .corrupt(error.reason, message: error.message, modified: modified)
            }
        }
    }
}
