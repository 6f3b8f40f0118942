import COutbound
import Glibc

/// Where the next candidate job name in `incoming/` comes from: names inotify reported (the
/// low-latency path) and a pass over the folder (the safety net, and the backlog at start),
/// merged in byte-wise name order, so the jobs of an ordered lane are claimed in their order
/// (contract 14). A pass holds the folder's job names in memory, sorted: at 100,000 names
/// about 6 MB and 0.1 s (see `startPass`).
final class IncomingQueue {
    private let folder: String
    private var stream: DirectoryStream?
    /// The current pass's names, sorted, and the next to hand out.
    private var listing: [String] = []
    private var listingHead = 0
    private var notified: [String] = []
    private var notifiedHead = 0
    private static let notifiedLimit = 65_536
    /// Why the last pass could not list the folder (opendir or readdir failed), until taken.
    private var listingFailure: SystemError?
    /// The last listing was cut short: files it did not see may sort before any name handed
    /// out now (names inotify reports meanwhile still are).
    private(set) var lastListingFailed = false

    init(folder: String) {
        self.folder = folder
    }

    var hasPending: Bool { notifiedHead < notified.count || listingHead < listing.count }

    /// Forgets every name not yet handed out and lists the folder anew.
    func startOver() {
        notified.removeAll(keepingCapacity: false)
        notifiedHead = 0
        listing.removeAll(keepingCapacity: false)
        listingHead = 0
        startPass()
    }

    /// Starts a new pass over the folder unless one is under way: lists it whole and sorts.
    func startPass() {
        guard listingHead >= listing.count else { return }
        listing.removeAll(keepingCapacity: false)
        listingHead = 0
        lastListingFailed = false
        do {
            stream = try DirectoryStream(folder)
        } catch {
            listingFailure = SystemError(error, otherwise: "open folder", path: folder)
            lastListingFailed = true
        }
        var allASCII = true
        func list(_ name: String) {
            listing.append(name)
            allASCII = allASCII && name.utf8.allSatisfy { $0 < 0x80 }
        }
        while let stream {
            switch stream.nextEntry() {
            case nil:
                // readdir's NULL is the end or an error: only the stream's failure tells.
                if let failure = stream.failure {
                    listingFailure = failure
                    lastListingFailed = true
                }
                self.stream = nil
            case .name(let name)?: if Spool.isJobName(name) { list(name) }
            case .undecodable(let raw)?: if let name = renameUndecodable(raw) { list(name) }
            }
        }
        if lastListingFailed {
            // A listing cut short holds the names readdir gave before it failed, in hash order:
            // a lane's later job may be among them and its earlier one not. None is handed
            // out; the folder is listed again (see `IntakeWorker.run`).
            listing.removeAll(keepingCapacity: false)
        } else {
            Self.sortBytewise(&listing, allASCII: allASCII)
        }
        listed = true
    }

    /// Sorts `names` in byte-wise order. Swift's own `<` compares Unicode scalars after
    /// normalization, which is byte order for ASCII only; for names that are all ASCII (the
    /// usual spool) it is used anyway, being about four times faster: 0.8 against 3.3 ms for
    /// 10,000 names in directory order, time the first requests of a drain wait for.
    static func sortBytewise(_ names: inout [String], allASCII: Bool) {
        if allASCII {
            names.sort()
        } else {
            names.sort { $0.bytePrecedes($1) }
        }
    }

    /// A listing was made since the last `takeListingOutcome`.
    private var listed = false

    /// How the listings since the last call went: nil when none was made, `.success` when
    /// the last saw the whole folder, `.failure` when one was cut short (opendir or readdir
    /// failed: that pass did not see every file).
    func takeListingOutcome() -> Result<Void, SystemError>? {
        defer { listingFailure = nil; listed = false }
        guard listed else { return nil }
        if let listingFailure { return .failure(listingFailure) }
        return .success(())
    }

    func noteArrivals(_ names: [String]) {
        if notified.count - notifiedHead + names.count > Self.notifiedLimit {
            startPass()
            return
        }
        let arrived = names.filter(Spool.isJobName).sorted { $0.bytePrecedes($1) }
        guard let first = arrived.first else { return }
        if notifiedHead == notified.count || notified[notified.count - 1].bytePrecedes(first) {
            notified.append(contentsOf: arrived)
            return
        }
        // Names not yet handed out stay in byte-wise order across batches: the batch is
        // merged in (linear; a sort of everything pending on each batch of unordered names,
        // such as UUIDs, would cost more with every batch).
        var merged: [String] = []
        merged.reserveCapacity(notified.count - notifiedHead + arrived.count)
        var pending = notifiedHead
        var new = 0
        while pending < notified.count, new < arrived.count {
            if arrived[new].bytePrecedes(notified[pending]) {
                merged.append(arrived[new])
                new += 1
            } else {
                merged.append(notified[pending])
                pending += 1
            }
        }
        merged.append(contentsOf: notified[pending...])
        merged.append(contentsOf: arrived[new...])
        notified = merged
        notifiedHead = 0
    }

    /// A `*.json` file whose name is not UTF-8 gets a spelling that is (each bad byte as
    /// `%XX`), by a rename inside `incoming/`, so it can be claimed and filed like any other;
    /// its name is no valid id, so without an `id` field it ends in corrupt/ as invalid_job.
    private func renameUndecodable(_ raw: [UInt8]) -> String? {
        guard raw.count > 5, raw.suffix(5).elementsEqual(".json".utf8), raw.first != UInt8(ascii: ".") else { return nil }
        var spelled = ""
        var index = 0
        while index < raw.count {
            var length = 1
            while length <= 4, index + length <= raw.count {
                if let text = String(validating: raw[index..<(index + length)], as: UTF8.self) {
                    spelled += text
                    break
                }
                length += 1
            }
            if length > 4 || index + length > raw.count {
                spelled += "%" + String(raw[index], radix: 16, uppercase: true).leftPadded(to: 2)
                length = 1
            }
            index += length
        }
        do {
            let target = try SpoolMover.freeName(for: spelled, in: folder)
            let from = Array(folder.utf8) + [UInt8(ascii: "/")] + raw + [0]
            let to = Array("\(folder)/\(target)".utf8) + [0]
            let moved = from.withUnsafeBufferPointer { fromPointer in
                to.withUnsafeBufferPointer { toPointer in
                    outbound_rename_noreplace(UnsafeRawPointer(fromPointer.baseAddress!).assumingMemoryBound(to: CChar.self),
                                              UnsafeRawPointer(toPointer.baseAddress!).assumingMemoryBound(to: CChar.self))
                }
            }
            return moved == 0 ? target : nil
        } catch {
            return nil
        }
    }

    /// The next job name to try, or nil when nothing is pending. With names from both
    /// sources pending, the byte-wise earlier goes first: a `run` started on a backlog lists
    /// a lane's earlier job while inotify reports its later one, and handing out reported
    /// names first would send the later job before the earlier one (contract 14).
    func next() -> String? {
        let listingFirst = listingHead < listing.count && notifiedHead < notified.count
            && listing[listingHead].bytePrecedes(notified[notifiedHead])
        if notifiedHead < notified.count, !listingFirst {
            let name = notified[notifiedHead]
            notifiedHead += 1
            if notifiedHead == notified.count {
                notified.removeAll(keepingCapacity: true)
                notifiedHead = 0
            }
            return name
        }
        guard listingHead < listing.count else { return nil }
        let name = listing[listingHead]
        listingHead += 1
        if listingHead == listing.count {
            listing.removeAll(keepingCapacity: false)
            listingHead = 0
        }
        return name
    }
}
