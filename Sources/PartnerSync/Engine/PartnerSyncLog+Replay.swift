import EventLog
import Foundation

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
      let others = (1..<partCount).map { PartBox(ReplayPart(log: self, part: $0, of: partCount)) }
      var workers: [Worker] = []
      defer {
        for handoff in inputs { handoff.cancel() }
        for handoff in results { handoff.cancel() }
        for worker in workers { worker.join() }
      }
      if isThreaded {
        workers.append(Worker(name: "PartnerSync replay reader") { reader.run(into: inputs) })
        for (index, box) in others.enumerated() {
          let input = inputs[index + 1], output = results[index]
          workers.append(Worker(name: "PartnerSync replay fold") { box.run(from: input, into: output) })
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
      for worker in workers { worker.join() }
      workers.removeAll()
      // Every ticket ends at its last position; none is left unless the index disagrees with the
      // events, and then each is still handed over, in the order the tickets first appeared.
      let slots = own.projections.count + others.reduce(0) { $0 + $1.part.projections.count }
      for slot in 0..<slots {
        let part = slot % partCount, index = slot / partCount
        let projection = part == 0 ? own.projections[index].take() : others[part - 1].part.projections[index].take()
        if let projection { try finish(projection) }
      }
    }
    return summary
  }
}

/// One part of a replay's tickets (those whose slot, modulo the number of parts, is `part`),
/// decoded and folded one batch at a time on one thread: the strings and projections a part makes
/// are also freed on its thread.
///
/// A batch's events come ticket by ticket (see `TicketGrouping`): each projection is then folded
/// several events in a row while it is in the processor's cache, where position order would move
/// to another ticket at nearly every event. Tickets are independent, so the result is the same;
/// the projections finished in a batch are handed over in the order of their last events, and an
/// event that cannot be read or that the rules refuse is reported as a fold in position order
/// would report it: the first in the log, with only the tickets finished before it handed over.
struct ReplayPart {
  /// What folding a batch gave.
  struct Result: Sendable {
    /// The projections the batch finished, by the position of their last event.
    var finished: [(position: Int64, projection: TicketProjection)] = []
    /// The first event that could not be read or that the rules refused, if any: the events of the
    /// part after it are not folded, and `finished` holds only the projections finished before it.
    var refused: (position: Int64, error: PartnerSyncError)?
  }

  let log: PartnerSyncLog
  let part: Int
  let parts: Int
  /// The part's tickets by slot / `parts`, and their projections while under way (`nil` before the
  /// first event and once handed over).
  var names: [String] = []
  var projections: [TicketProjection?] = []
  private var actors = ActorNames()

  init(log: PartnerSyncLog, part: Int, of parts: Int) {
    self.log = log
    self.part = part
    self.parts = parts
  }

  /// Decodes and folds the part's events of `batch`.
  mutating func fold(_ batch: RawReplayBatch) -> Result {
    var slot = batch.firstNewSlot
    for name in batch.newTickets {
      if slot % parts == part {
        names.append(name)
        projections.append(nil)
      }
      slot += 1
    }
    var result = Result()
    var skipped = -1
    do {
      let mine = batch.parts[part]
      let bytes = mine.bytes
      for raw in mine.events {
        let local = raw.ticketSlot / parts
        if local == skipped { continue }
        if let first = result.refused, first.position < raw.position {
          // A later event than one already refused: the replay stops before it.
          skipped = local
          continue
        }
        func span(_ start: Int, _ end: Int) -> UnsafeBufferPointer<UInt8> {
          UnsafeBufferPointer(rebasing: bytes[start..<end])
        }
        let empty = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
        let stored = StoredEventBytes(
          position: raw.position, version: 0, time: 0, stream: empty,
          type: span(raw.start, raw.typeEnd), actor: empty, data: span(raw.actorEnd, raw.dataEnd), hash: empty)
        do throws(PartnerSyncError) {
          let event = try log.decodeEvent(
            stored, ticket: names[local], actor: actors.name(span(raw.typeEnd, raw.actorEnd)))
          if projections[local] == nil {
            projections[local] = TicketProjection(ticket: names[local], rules: log.rules)
          }
          do throws(RefusedEvent) {
            try projections[local]!.apply(event, position: raw.position)
          } catch {
            throw PartnerSyncLog.refusedOnReplay(error, position: raw.position)
          }
        } catch {
          result.refused = (raw.position, error)
          skipped = local
          continue
        }
        if raw.isLast {
          result.finished.append((raw.position, projections[local].take()!))
        }
      }
    }
    result.finished.sort { $0.position < $1.position }
    if let refused = result.refused { result.finished.removeAll { $0.position > refused.position } }
    return result
  }
}

/// A replay part that folds on a thread of its own, and whose state the calling thread reads once
/// that thread has ended.
final class PartBox: @unchecked Sendable {
  // @unchecked Sendable: `part` is used by the part's thread while it runs (`run`), and by the
  // calling thread only after joining it.
  var part: ReplayPart

  init(_ part: ReplayPart) {
    self.part = part
  }

  /// Folds each batch of `input`, putting each result in `output`, until `input` ends.
  func run(from input: Handoff<RawReplayBatch>, into output: Handoff<ReplayPart.Result>) {
    while let batch = try? input.take() {
      guard output.put(part.fold(batch)) else { return }
      _ = output.takeBack()  // the projections handed over since: freed here, where they were made
    }
    output.finish()
  }
}

/// Events read from the log as bytes, on their way from the replay's reader to the parts that
/// decode and fold them: each part reads the same batch, and takes its own share of it.
final class RawReplayBatch: Sendable {
  /// Where one event's columns are in its part's bytes, back to back: its type, actor and data.
  struct Event: Sendable {
    var position: Int64
    /// The event's ticket slot, or for the last event of its ticket `~slot` (negative).
    var slot: Int32
    var start: Int
    var typeEnd: Int
    var actorEnd: Int
    var dataEnd: Int

    /// Whether this is the last event of its ticket.
    var isLast: Bool { slot < 0 }
    /// The ticket's slot.
    var ticketSlot: Int { Int(isLast ? ~slot : slot) }
  }

  /// The events of one part's tickets, ticket by ticket (see `TicketGrouping`), and their bytes
  /// in that order: a part reads both straight through, which the processor reads ahead of it,
  /// where jumping about a whole batch's bytes missed its caches at every event.
  ///
  /// Their memory goes back to the replay's `ReplayBuffers` when the part is freed, for a later
  /// batch to fill.
  final class Part: @unchecked Sendable {
    // @unchecked Sendable: the memory is never written once this value owns it, and is handed
    // back only once no one reads it any more (in `deinit`).
    let events: [Event]
    private let gathered: GrowingBytes
    private let buffers: ReplayBuffers

    /// Takes over `events` and the memory of `bytes`, which must not be used again.
    init(events: [Event], bytes: GrowingBytes, buffers: ReplayBuffers) {
      self.events = events
      gathered = bytes
      self.buffers = buffers
    }

    deinit { buffers.give(events: events, bytes: gathered) }

    /// The events' bytes.
    var bytes: UnsafeBufferPointer<UInt8> { gathered.buffer }
  }

  /// The tickets seen for the first time in this batch, in that order: they take the slots from
  /// `firstNewSlot` on.
  let newTickets: [String]
  let firstNewSlot: Int
  /// By part, its events.
  let parts: [Part]

  init(newTickets: [String], firstNewSlot: Int, parts: [Part]) {
    self.newTickets = newTickets
    self.firstNewSlot = firstNewSlot
    self.parts = parts
  }

  /// How many events the batch holds.
  var eventCount: Int { parts.reduce(0) { $0 + $1.events.count } }
}

/// Reads the log in position order, in chunks, as bytes for `replay`, marking the last event of
/// each ticket (found in the log's index when a chunk first meets the ticket, see
/// `EventLogReader.lastPositions(ofStreams:through:)`: the folding threads start on the first
/// chunk instead of waiting for every ticket's end to be known).
///
/// Each chunk is read in its own short call to the log (its lock is never held while waiting for
/// the folding threads), so that the folding threads, and `replay`'s `body`, can use the log too.
/// Positions never change once written, so chunks up to the last position read at the start see
/// exactly what one long read would.
struct ReplayReader: @unchecked Sendable {
  // @unchecked Sendable: the log serialises its own access (see `PartnerSyncLog`), and the
  // reader's own state lives in `run` on one thread.

  static let chunkSize: Int64 = 32_768

  let log: PartnerSyncLog
  let last: Int64
  let chunkSize: Int64

  /// Puts every batch into each of `handoffs`.
  func run(into handoffs: [Handoff<RawReplayBatch>]) {
    var tickets = NameTable()
    var grouping = TicketGrouping()
    // Each part's queued batches and the one it folds, and the one being read, with room to spare.
    let buffers = ReplayBuffers(limit: handoffs.count * 6 + 2)
    // The events as read, in position order, before `grouping` copies them to the parts.
    var bytes = GrowingBytes(capacity: 0)
    var events: [RawReplayBatch.Event] = []
    defer { bytes.deallocate() }
    var from: Int64 = 1
    do {
      // By ticket slot: the position of the ticket's last event (0 when the log has none there),
      // asked of the log's index for the tickets each batch meets first, once it is read.
      var ends: [Int64] = []
      // Room for a batch as large as the one before and an eighth more (at most 8 MiB: a batch of
      // large events grows past it as it must, and the next one does not reserve as much again).
      var reserve = min(Int(chunkSize), 32_768) * 256
      while from <= last {
        let through = min(last, from + chunkSize - 1)
        let firstNewSlot = tickets.names.count
        var newTickets: [String] = []
        events.removeAll(keepingCapacity: true)
        events.reserveCapacity(Int(through - from + 1))
        bytes.reserve(min(reserve, 8 << 20))
        var failure: (any Error)?
        do {
          try PartnerSyncError.wrap {
            // Not the version, time or hash: folding needs none of them.
            try log.store.forEachEventBytes(from: from, through: through, columns: []) { stored in
              let slot = Int32(tickets.slot(of: stored.stream) { newTickets.append($0) })
              let start = bytes.count
              bytes.append(stored.type)
              let typeEnd = bytes.count
              bytes.append(stored.actor)
              let actorEnd = bytes.count
              bytes.append(stored.data)
              events.append(
                RawReplayBatch.Event(
                  position: stored.position, slot: slot, start: start, typeEnd: typeEnd,
                  actorEnd: actorEnd, dataEnd: bytes.count))
              return true
            }
          }
        } catch {
          // The events read before the one that failed are still folded first: one of them that
          // the rules refuse is reported instead, as a fold in position order would.
          failure = error
        }
        // The new tickets' last positions (a log that cannot tell them fails the replay here,
        // before this batch is folded), then each ticket's last event marked. A ticket whose end
        // the log does not name is handed over, complete, when the replay ends.
        try PartnerSyncError.wrap {
          let found = try log.store.lastPositions(ofStreams: newTickets, through: last)
          ends += newTickets.indices.map { $0 < found.count ? found[$0] ?? 0 : 0 }
        }
        for index in events.indices where ends[Int(events[index].slot)] == events[index].position {
          events[index].slot = ~events[index].slot
        }
        reserve = bytes.count + bytes.count / 8
        let batch = RawReplayBatch(
          newTickets: newTickets, firstNewSlot: firstNewSlot,
          parts: grouping.parts(handoffs.count, events: events, bytes: bytes, buffers: buffers))
        bytes.removeAll()
        for handoff in handoffs {
          guard handoff.put(batch) else { return }
        }
        if let failure { throw failure }
        from = through + 1
      }
      for handoff in handoffs { handoff.finish() }
    } catch {
      for handoff in handoffs { handoff.finish(throwing: error) }
    }
  }
}

/// The memory of a replay's batches: each part's events and bytes go back here when the batch is
/// freed (on whichever thread frees it), and the reader fills them again for a later batch, so
/// that a replay asks the system for memory only for the first few batches (memory handed back
/// and asked for again would have its pages zeroed again, each time).
final class ReplayBuffers: @unchecked Sendable {
  // @unchecked Sendable: `kept` is read and written while holding `lock`.
  private let lock = NSLock()
  private var kept: [(events: [RawReplayBatch.Event], bytes: GrowingBytes)] = []
  /// How many sets of memory are kept: as many as can be under way at once (each part's queued
  /// and folding batches, and the one being read) and a few more.
  private let limit: Int

  init(limit: Int) {
    self.limit = limit
  }

  deinit {
    for set in kept { set.bytes.deallocate() }
  }

  /// A list of events and bytes to fill, both empty: memory handed back if there is some.
  func take() -> (events: [RawReplayBatch.Event], bytes: GrowingBytes) {
    lock.lock()
    let set = kept.popLast()
    lock.unlock()
    guard var set else { return ([], GrowingBytes(capacity: 0)) }
    set.events.removeAll(keepingCapacity: true)
    set.bytes.removeAll()
    return set
  }

  /// Keeps `events` and the memory of `bytes` for later, or frees them when enough is kept.
  func give(events: [RawReplayBatch.Event], bytes: GrowingBytes) {
    lock.lock()
    let keeps = kept.count < limit
    if keeps { kept.append((events, bytes)) }
    lock.unlock()
    if !keeps { bytes.deallocate() }
  }
}

/// Orders the events of a batch ticket by ticket (a counting sort by ticket slot, stable), and
/// deals them out to the parts, reusing its working arrays from one batch to the next.
struct TicketGrouping {
  /// The events of `events` (their bytes in `bytes`) dealt out to `parts` parts by ticket slot
  /// (modulo `parts`): each part's events ticket by ticket (see `order(_:parts:)`), with their
  /// bytes copied in that order, into memory from `buffers`.
  mutating func parts(
    _ parts: Int, events: [RawReplayBatch.Event], bytes: GrowingBytes, buffers: ReplayBuffers
  ) -> [RawReplayBatch.Part] {
    let (order, shares) = order(events, parts: parts)
    var start = 0
    return shares.map { share in
      var (grouped, copied) = buffers.take()
      copied.reserve(share.bytes)
      grouped.reserveCapacity(share.events)
      for index in order[start..<start + share.events] {
        var event = events[Int(index)]
        let shift = copied.count - event.start
        copied.append(UnsafeBufferPointer(start: bytes.base + event.start, count: event.dataEnd - event.start))
        event.start += shift
        event.typeEnd += shift
        event.actorEnd += shift
        event.dataEnd += shift
        grouped.append(event)
      }
      start += share.events
      return RawReplayBatch.Part(events: grouped, bytes: copied, buffers: buffers)
    }
  }

  /// For each ticket slot, its group in the batch being ordered + 1 (0: none yet).
  private var groupOf: [Int32] = []
  /// Each group's ticket slot, its events' bytes, and then where its events start in the order.
  private var groupSlots: [Int] = []
  private var groupBytes: [Int] = []
  private var starts: [Int32] = []
  /// Each event's group.
  private var groups: [Int32] = []

  /// The indices of `events`, part by part (the events of the tickets whose slot, modulo `parts`,
  /// is 0, then 1…): every event of one ticket, in position order, then those of the next ticket
  /// of the part (in the order they first appear in the batch). With each part's share: how many
  /// events, and how many bytes they hold.
  mutating func order(
    _ events: [RawReplayBatch.Event], parts: Int
  ) -> (order: [Int32], shares: [(events: Int, bytes: Int)]) {
    groups.removeAll(keepingCapacity: true)
    for event in events {
      let slot = event.ticketSlot
      if slot >= groupOf.count { groupOf.append(contentsOf: repeatElement(0, count: slot + 1 - groupOf.count)) }
      if groupOf[slot] == 0 {
        groupSlots.append(slot)
        groupBytes.append(0)
        starts.append(0)
        groupOf[slot] = Int32(groupSlots.count)
      }
      let group = Int(groupOf[slot]) - 1
      groups.append(Int32(group))
      starts[group] += 1
      groupBytes[group] += event.dataEnd - event.start
    }
    // Counts to starting places, part by part.
    var shares = [(events: Int, bytes: Int)](repeating: (0, 0), count: parts)
    var next: Int32 = 0
    for part in 0..<parts {
      let first = next
      for group in starts.indices where groupSlots[group] % parts == part {
        let size = starts[group]
        starts[group] = next
        next += size
        shares[part].bytes += groupBytes[group]
      }
      shares[part].events = Int(next - first)
    }
    var order = [Int32](repeating: 0, count: events.count)
    for (index, group) in groups.enumerated() {
      order[Int(starts[Int(group)])] = Int32(index)
      starts[Int(group)] += 1
    }
    for slot in groupSlots { groupOf[slot] = 0 }
    groupSlots.removeAll(keepingCapacity: true)
    groupBytes.removeAll(keepingCapacity: true)
    starts.removeAll(keepingCapacity: true)
    return (order, shares)
  }
}

/// The actors seen lately, so that the few partners acting throughout a log are each made into a
/// string once rather than once per event.
///
/// Each name is found by its length and its first eight bytes, held in one word beside the others
/// (no pointer to follow until a name matches); only the bytes after the eighth are compared in
/// memory.
struct ActorNames {
  private struct Known {
    var count: Int
    var head: UInt64
    var name: String
    var bytes: [UInt8]
  }

  private var known: [Known] = []
  private var next = 0
  /// How many names are kept.
  static let capacity = 16

  /// The actor named `bytes`.
  mutating func name(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
    let head = ByteHash.head(of: bytes)
    let count = bytes.count
    for index in known.indices where known[index].head == head && known[index].count == count {
      if count <= 8 { return known[index].name }
      let same = known[index].bytes.withUnsafeBufferPointer {
        memoryEqual($0.baseAddress! + 8, bytes.baseAddress! + 8, count: count - 8)
      }
      if same { return known[index].name }
    }
    let entry = Known(count: count, head: head, name: String(decoding: bytes, as: UTF8.self), bytes: Array(bytes))
    if known.count < Self.capacity {
      known.append(entry)
    } else {
      known[next] = entry
      next = (next + 1) % Self.capacity
    }
    return entry.name
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
    name.withUTF8Bytes { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
  }
}
