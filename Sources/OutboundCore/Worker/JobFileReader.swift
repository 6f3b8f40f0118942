/// Reads a claimed job file and decodes it: shared by the intake thread (jobs from
/// `incoming/`) and the loop (jobs back from `deferred/`).
enum JobFileReader {
    /// What a claimed file turned out to be.
    enum Outcome {
        /// A decoded job; `bytes` is the file's size, what the byte budget charges for it.
        case job(Job, inode: UInt64, bytes: Int)
        /// The byte budget has no room for a file of `bytes` now: it was not read.
        case waitForBytes(Int)
        /// Not a valid job. `modified` is the file's mtime when it was read (nil for files that
        /// were not read), for the 1-second grace given to files still being written.
        case corrupt(CorruptReason, message: String, modified: Double?)
        /// Could not be read for a reason that may pass (`SystemError.isTransient`: out of
        /// descriptors or memory, an I/O error): no verdict; it goes back to be read later.
        case unreadable(SystemError)
    }

    /// A file that is not a valid job but was modified less than this long ago may still be
    /// being written: it gets no verdict until it is this old.
    static let writingGraceSeconds = 1.0

    /// Whether a file modified at `modified` may still be being written (`writingGraceSeconds`).
    static func mayStillBeWritten(modified: Double, now: Double) -> Bool {
        now - modified < writingGraceSeconds
    }

    /// `admit` reserves a file's size in the byte budget before its bytes are read.
    static func read(_ fileName: String, in folder: DirectoryHandle, decoder: JobDecoder, limit: Int,
                     admit: (Int) -> Bool = { _ in true }) -> Outcome {
        let contents: FileSystem.ReadResult
        do {
            contents = try folder.readRegularFile(fileName, limit: limit, admit: admit)
        } catch let error as SystemError where error.isTransient {
            return .unreadable(error)
        } catch {
            return .corrupt(.unsupportedFile, message: "the file cannot be read: \(error)", modified: nil)
        }
        switch contents {
        case .notAdmitted(let size):
            return .waitForBytes(size)
        case .notRegularFile:
            return .corrupt(.unsupportedFile, message: "not a regular file (a symlink, folder or FIFO); jobs must be regular files",
                            modified: nil)
        case .tooLarge(let size, let modified):
            return .corrupt(.tooLarge, message: "the file has \(size) bytes or more; maxJobBytes is \(limit)", modified: modified)
        case .contents(let bytes, let modified, let inode):
            do {
                return .job(try decoder.decode(bytes, fileName: fileName), inode: inode, bytes: bytes.count)
            } catch {
                return .corrupt(error.reason, message: error.message, modified: modified)
            }
        }
    }
}
