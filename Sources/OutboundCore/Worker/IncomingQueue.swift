/// Where the next candidate job name in `incoming/` comes from: names inotify reported
/// first (the low-latency path), then a streaming pass over the folder (the safety net, and
/// the backlog at start). Never holds the whole folder in memory.
final class IncomingQueue {
    private let folder: String
    private var stream: DirectoryStream?
    private var notified: [String] = []
    private var notifiedHead = 0
    private static let notifiedLimit = 65_536

    init(folder: String) {
        self.folder = folder
    }

    var hasPending: Bool { notifiedHead < notified.count || stream != nil }
    var isScanning: Bool { stream != nil }

    /// Starts a new pass over the folder unless one is under way.
    func startPass() {
        guard stream == nil else { return }
        stream = try? DirectoryStream(folder)
    }

    func noteArrivals(_ names: [String]) {
        if notified.count - notifiedHead + names.count > Self.notifiedLimit {
            startPass()
            return
        }
        notified.append(contentsOf: names.filter(Spool.isJobName))
    }

    /// The next job name to try, or nil when nothing is pending.
    func next() -> String? {
        if notifiedHead < notified.count {
            let name = notified[notifiedHead]
            notifiedHead += 1
            if notifiedHead == notified.count {
                notified.removeAll(keepingCapacity: true)
                notifiedHead = 0
            }
            return name
        }
        while let stream {
            guard let name = stream.next() else {
                self.stream = nil
                return nil
            }
            if Spool.isJobName(name) { return name }
        }
        return nil
    }
}
