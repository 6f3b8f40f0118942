/// Counts the shell reports to the core for the run's summary.
extension DispatchCore {
    /// Claims put back in their folder (at a stop or an end).
    mutating func claimPutBack() { summary.requeued += 1 }
    /// An outcome for `folder` was decided but could not be written: it is not counted, so
    /// the summary says what is on disk.
    mutating func outcomeNotRecorded(_ folder: SpoolFolder) {
        switch folder {
        case .delivered: summary.delivered -= 1
        case .failed: summary.failed -= 1
        case .refused: summary.refused -= 1
        case .corrupt: summary.corrupt -= 1
        case .deferred: summary.deferred -= 1
        default: break
        }
    }
    /// Orphaned claims recovered into incoming/.
    mutating func orphansRecovered(_ count: Int) { summary.recovered += count }
    /// How the run ended, and the counts only the shell can take.
    mutating func ended(_ ending: DispatchSummary.Ending?, unclaimable: Int, stillDeferred: Int) {
        if let ending { summary.ending = ending }
        summary.unclaimable = unclaimable
        summary.stillDeferred = stillDeferred
    }
}
