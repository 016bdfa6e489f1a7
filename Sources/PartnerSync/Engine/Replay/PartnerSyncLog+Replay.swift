import EventLog
import Foundation
import PartnerSyncDomain

extension PartnerSyncLog {
  /// What a replay found.
  public struct ReplaySummary: Sendable, Hashable {
    /// Events replayed.
    public var events: Int64 = 0
    /// Tickets rebuilt.
    public var tickets: Int = 0
    /// Sync decisions taken.
    public var decisions: Int = 0
    /// Notifications sent.
    public var notifications: Int = 0
  }

  /// Logs up to this many events are replayed on the calling thread alone.
  static let inlineReplayLimit: Int64 = 16_384

  /// How many threads fold a threaded replay, each the tickets of its own part of the slots (the
  /// calling thread one of them), beside the thread that reads.
  static let replayParts = 2

  /// Rebuilds every ticket's projection from the log, handing each finished projection to `body`.
  ///
  /// The log is read once, in position order, 32,768 events at a time, with every ticket's
  /// projection built side by side; a ticket's projection is handed over (in the order of the
  /// tickets' last events) and released once the batch holding its last event is folded, so
  /// memory stays bounded by the tickets under way at the same point of the log, not by the log.
  /// In a log of more than 16,384 events, one thread reads the events as bytes while two threads
  /// (the calling thread one of them) each decode and fold the events of half of the tickets;
  /// `body` is called on the calling thread, and may read the log.
  /// An event that cannot be decoded or that the rules refuse ends the replay with `corruptLog`:
  /// the first such event in the log, after the projections of the tickets finished before it.
  /// A failure to read the log ends it with that failure, after the projections of the tickets
  /// finished before the event it could not read.
  @discardableResult
  public func replay(
    progress: ProgressHandler? = nil, _ body: (TicketProjection) throws -> Void = { _ in }
  ) throws(PartnerSyncError) -> ReplaySummary {
    try replay(progress: progress, threaded: nil, chunkSize: ReplayReader.chunkSize, body)
  }

  /// `replay`, with threads when `threaded` (by default for logs of more than
  /// `inlineReplayLimit` events), reading `chunkSize` events at a time.
  @discardableResult
  func replay(
    progress: ProgressHandler?, threaded: Bool?, chunkSize: Int64,
    _ body: (TicketProjection) throws -> Void
  ) throws(PartnerSyncError) -> ReplaySummary {
    var summary = ReplaySummary()
    try PartnerSyncError.wrap {
      let last = try store.lastPosition()
      let reader = ReplayReader(log: self, last: last, chunkSize: chunkSize)
      let isThreaded = threaded ?? (last > Self.inlineReplayLimit)
      let partCount = isThreaded ? Self.replayParts : 1
      // Each part's batches to fold, and each other part's results of folding them.
      let inputs = (0..<partCount).map { _ in Handoff<RawReplayBatch>(capacity: isThreaded ? 3 : Int.max) }
      let results = (1..<partCount).map { _ in Handoff<ReplayPart.Result>(capacity: 3) }
      var own = ReplayPart(log: self, part: 0, of: partCount)
      var readerThread: Worker<Void>?
      var others: [Worker<ReplayPart>] = []
      defer {
        for handoff in inputs { handoff.cancel() }
        for handoff in results { handoff.cancel() }
        readerThread?.join()
        for worker in others { worker.join() }
      }
      if isThreaded {
        readerThread = Worker(name: "PartnerSync replay reader") { reader.run(into: inputs) }
        others = (1..<partCount).map { index in
          let part = ReplayPart(log: self, part: index, of: partCount)
          let input = inputs[index], output = results[index - 1]
          return Worker(name: "PartnerSync replay fold") { part.run(from: input, into: output) }
        }
      } else {
        reader.run(into: inputs)
      }
      func finish(_ projection: TicketProjection) throws {
        summary.tickets += 1
        summary.decisions += projection.decisions.count
        summary.notifications += projection.notifications.count
        try body(projection)
      }
      while let batch = try inputs[0].take() {
        let mine = own.fold(batch)
        var theirs: [ReplayPart.Result] = []
        for handoff in results {
          // Every part folds every batch: a part's input ends only after the batches the
          // calling thread's does.
          guard let result = try handoff.take() else { preconditionFailure("a replay part ended early") }
          theirs.append(result)
        }
        // The parts' finished projections, handed over in the order of their last events, up to
        // the first event any part refused.
        var refused = mine.refused
        for result in theirs {
          if let other = result.refused, other.position < refused?.position ?? .max { refused = other }
        }
        var handed: [(position: Int64, part: Int, index: Int)] = []
        for (index, item) in mine.finished.enumerated() { handed.append((item.position, 0, index)) }
        for (part, result) in theirs.enumerated() {
          for (index, item) in result.finished.enumerated() { handed.append((item.position, part + 1, index)) }
        }
        handed.sort { $0.position < $1.position }
        for item in handed where item.position < refused?.position ?? .max {
          try finish(
            item.part == 0
              ? mine.finished[item.index].projection : theirs[item.part - 1].finished[item.index].projection)
        }
        if let refused { throw refused.error }
        // Each part frees the projections it built, on its own thread.
        for (index, result) in theirs.enumerated() { results[index].giveBack(result) }
        summary.events += Int64(batch.eventCount)
        if let progress {
          progress(ProgressReport(phase: .replaying, done: summary.events, total: last))
        }
      }
      for handoff in inputs { handoff.cancel() }
      readerThread?.join()
      readerThread = nil
      var parts = [own] + others.map { $0.join() }
      others.removeAll()
      // Every ticket ends at its last position; none is left unless the index disagrees with the
      // events, and then each is still handed over, in the order the tickets first appeared.
      let slots = parts.reduce(0) { $0 + $1.projections.count }
      for slot in 0..<slots {
        if let projection = parts[slot % partCount].projections[slot / partCount].take() { try finish(projection) }
      }
    }
    return summary
  }
}
