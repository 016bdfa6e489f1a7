import EventLog

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

  /// Rebuilds every ticket's projection from the log, handing each finished projection to `body`.
  ///
  /// The log is read once, in position order, a few thousand events at a time, with every
  /// ticket's projection built side by side; a ticket's projection is handed over (in the order of
  /// the tickets' last events) and released once the batch holding its last event is folded, so
  /// memory stays bounded by the tickets under way at the same point of the log, not by the log.
  /// In a log of more than a few thousand events, a second thread reads and decodes the events
  /// while the calling thread folds them; `body` is called on the calling thread, and may read
  /// the log.
  /// An event that cannot be read or that the rules refuse ends the replay with `corruptLog`: the
  /// first such event in the log, after the projections of the tickets finished before it.
  @discardableResult
  public func replay(
    progress: ProgressHandler? = nil, _ body: (TicketProjection) throws -> Void = { _ in }
  ) throws(PartnerSyncError) -> ReplaySummary {
    try replay(progress: progress, threaded: nil, chunkSize: ReplayReader.chunkSize, body)
  }

  /// `replay`, with a second thread when `threaded` (by default for logs of more than
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
      let handoff: Handoff<ReplayBatch>
      let worker: Worker?
      if threaded ?? (last > Self.inlineReplayLimit) {
        handoff = Handoff(capacity: 3)
        worker = Worker(name: "PartnerSync replay reader") { reader.run(into: handoff) }
      } else {
        handoff = Handoff(capacity: Int.max)
        reader.run(into: handoff)
        worker = nil
      }
      defer {
        handoff.cancel()
        worker?.join()
      }
      var fold = ReplayFold(rules: rules)
      func finish(_ projection: TicketProjection) throws {
        summary.tickets += 1
        summary.decisions += projection.decisions.count
        summary.notifications += projection.notifications.count
        try body(projection)
      }
      while var batch = try handoff.take() {
        let refused = fold.fold(batch)
        for (_, projection) in fold.finished { try finish(projection) }
        fold.finished.removeAll(keepingCapacity: true)
        if let refused { throw refused.error }
        summary.events += Int64(batch.events.count)
        if let progress {
          progress(ProgressReport(phase: .replaying, done: summary.events, total: last))
        }
        // The reader thread, which decoded the batch, frees it.
        handoff.giveBack(batch)
        batch = ReplayBatch()
      }
      // Every ticket ends at its last position; none is left unless the index disagrees with the
      // events, and then each is still handed over, in the order the tickets first appeared.
      for index in fold.projections.indices {
        if let projection = fold.projections[index].take() { try finish(projection) }
      }
    }
    return summary
  }
}

/// The projections of a replay, folded one batch at a time.
///
/// A batch is folded ticket by ticket (`ReplayBatch.order`): each projection is then folded
/// several events in a row while it is in the processor's cache, where position order would move
/// to another ticket at nearly every event. Tickets are independent, so the result is the same;
/// the projections finished in a batch are handed over in the order of their last events, and an
/// event the rules refuse is reported as a fold in position order would report it: the first in
/// the log, with only the tickets finished before it handed over.
struct ReplayFold {
  let rules: RuleSet
  /// The tickets by slot, and their projections while under way (`nil` before the first event
  /// and once handed over).
  var names: [String] = []
  var projections: [TicketProjection?] = []
  /// The projections the last batch finished, by the position of their last event.
  var finished: [(position: Int64, projection: TicketProjection)] = []

  init(rules: RuleSet) {
    self.rules = rules
  }

  /// Folds `batch`, leaving the projections it finished in `finished`; returns the first event
  /// the rules refuse, if any (the events after it are not folded, and `finished` holds only the
  /// projections finished before it).
  mutating func fold(_ batch: borrowing ReplayBatch) -> (position: Int64, error: PartnerSyncError)? {
    for name in batch.newTickets {
      names.append(name)
      projections.append(nil)
    }
    var refused: (position: Int64, error: PartnerSyncError)?
    var skipped = -1
    for index in batch.order {
      let index = Int(index)
      let isLast = batch.slots[index] < 0
      let slot = isLast ? Int(~batch.slots[index]) : Int(batch.slots[index])
      if slot == skipped { continue }
      if projections[slot] == nil {
        projections[slot] = TicketProjection(ticket: names[slot], rules: rules)
      }
      let position = batch.events[index].position
      if let first = refused, first.position < position {
        // A later event than one already refused: the replay stops before it.
        skipped = slot
        continue
      }
      do throws(RefusedEvent) {
        try projections[slot]!.apply(batch.events[index].event, position: position)
      } catch {
        refused = (position, PartnerSyncLog.refusedOnReplay(error, position: position))
        skipped = slot
        continue
      }
      if isLast {
        finished.append((position, projections[slot].take()!))
      }
    }
    finished.sort { $0.position < $1.position }
    if let refused { finished.removeAll { $0.position > refused.position } }
    return refused
  }
}

/// Decoded events on their way from the replay's reader to the thread that folds them.
struct ReplayBatch: Sendable {
  /// The tickets seen for the first time in this batch, in that order: they take the next slots.
  var newTickets: [String] = []
  /// Each event's ticket slot, or for the last event of its ticket `~slot` (negative).
  var slots: [Int32] = []
  /// The order to fold the events in: every event of one ticket, in position order, then those of
  /// the next ticket (tickets in the order they first appear in the batch).
  var order: [Int32] = []
  /// The events, in position order.
  var events: [RecordedEvent] = []
}

/// Reads the log in position order, in chunks, and decodes each event for `replay`, marking the
/// last event of each ticket (found first in the log's index, see
/// `EventLogReader.streamSummaries(through:)`).
///
/// Each chunk is read in its own short call to the log (its lock is never held while waiting for
/// the folding thread), so that the folding thread, and `replay`'s `body`, can use the log too.
/// Positions never change once written, so chunks up to the last position read at the start see
/// exactly what one long read would.
struct ReplayReader: @unchecked Sendable {
  // @unchecked Sendable: the log serialises its own access (see `PartnerSyncLog`), and the
  // reader's own state lives in `run` on one thread.

  static let chunkSize: Int64 = 4096

  let log: PartnerSyncLog
  let last: Int64
  let chunkSize: Int64

  func run(into handoff: Handoff<ReplayBatch>) {
    var tickets = NameTable()
    var actors = ActorNames()
    var grouping = TicketGrouping()
    var from: Int64 = 1
    do {
      // The tickets' last positions, in order: the scan meets them in that order too.
      var ends: [Int64] = []
      try PartnerSyncError.wrap {
        ends = try log.store.streamSummaries(through: last).map(\.lastPosition).sorted()
      }
      var nextEnd = 0
      while from <= last {
        let through = min(last, from + chunkSize - 1)
        var batch = ReplayBatch()
        batch.slots.reserveCapacity(Int(through - from + 1))
        batch.events.reserveCapacity(Int(through - from + 1))
        var failure: (any Error)?
        do {
          try PartnerSyncError.wrap {
            // Not the version, time or hash: folding needs none of them.
            try log.store.forEachEventBytes(from: from, through: through, columns: []) { stored in
              let slot = Int32(tickets.slot(of: stored.stream) { batch.newTickets.append($0) })
              while nextEnd < ends.count, ends[nextEnd] < stored.position { nextEnd += 1 }
              let isLast = nextEnd < ends.count && ends[nextEnd] == stored.position
              let event = try log.decode(stored, ticket: tickets.names[Int(slot)], actor: actors.name(stored.actor))
              batch.slots.append(isLast ? ~slot : slot)
              batch.events.append(event)
              return true
            }
          }
        } catch {
          // The events read before the one that failed are still folded first: one of them that
          // the rules refuse is reported instead, as a fold in position order would.
          failure = error
        }
        grouping.order(&batch)
        guard handoff.put(batch) else { return }
        if let failure { throw failure }
        _ = handoff.takeBack()  // the batches folded since: freed here, where they were made
        from = through + 1
      }
      handoff.finish()
    } catch {
      handoff.finish(throwing: error)
    }
  }
}

/// Orders a batch's events ticket by ticket (a counting sort by ticket slot, stable), reusing its
/// working arrays from one batch to the next (the order itself goes with the batch).
struct TicketGrouping {
  /// For each ticket slot, its group in the batch being ordered + 1 (0: none yet).
  private var groupOf: [Int32] = []
  /// Each group's ticket slot, then where its events start in the order.
  private var groupSlots: [Int] = []
  private var starts: [Int32] = []
  /// Each event's group.
  private var groups: [Int32] = []

  /// Sets `batch.order`.
  mutating func order(_ batch: inout ReplayBatch) {
    let count = batch.slots.count
    groups.removeAll(keepingCapacity: true)
    groups.append(contentsOf: repeatElement(0, count: count))
    for index in 0..<count {
      let raw = batch.slots[index]
      let slot = raw < 0 ? Int(~raw) : Int(raw)
      if slot >= groupOf.count { groupOf.append(contentsOf: repeatElement(0, count: slot + 1 - groupOf.count)) }
      if groupOf[slot] == 0 {
        groupSlots.append(slot)
        starts.append(0)
        groupOf[slot] = Int32(groupSlots.count)
      }
      let group = Int(groupOf[slot]) - 1
      groups[index] = Int32(group)
      starts[group] += 1
    }
    // Counts to starting places.
    var next: Int32 = 0
    for group in starts.indices {
      let size = starts[group]
      starts[group] = next
      next += size
    }
    var order = [Int32](repeating: 0, count: count)
    for index in 0..<count {
      let group = Int(groups[index])
      order[Int(starts[group])] = Int32(index)
      starts[group] += 1
    }
    batch.order = order
    for slot in groupSlots { groupOf[slot] = 0 }
    groupSlots.removeAll(keepingCapacity: true)
    starts.removeAll(keepingCapacity: true)
  }
}

/// The actors seen lately, so that the few partners acting throughout a log are each made into a
/// string once rather than once per event.
struct ActorNames {
  private var names: [String] = []
  private var stored: [[UInt8]] = []
  private var next = 0

  /// The actor named `bytes`.
  mutating func name(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
    for index in stored.indices where stored[index].count == bytes.count {
      let same = stored[index].withUnsafeBufferPointer {
        $0.count == 0 || memoryEqual($0.baseAddress!, bytes.baseAddress!, count: $0.count)
      }
      if same { return names[index] }
    }
    let name = String(decoding: bytes, as: UTF8.self)
    if names.count < 16 {
      names.append(name)
      stored.append(Array(bytes))
    } else {
      names[next] = name
      stored[next] = Array(bytes)
      next = (next + 1) % 16
    }
    return name
  }
}

/// A ticket number compared and hashed by its UTF-8 bytes, as the log compares stream names.
struct TicketKey: Hashable {
  let name: String

  init(_ name: String) {
    self.name = name
  }

  static func == (lhs: TicketKey, rhs: TicketKey) -> Bool {
    JSONValue.utf8Equal(lhs.name, rhs.name)
  }

  func hash(into hasher: inout Hasher) {
    var name = name
    name.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
  }
}
