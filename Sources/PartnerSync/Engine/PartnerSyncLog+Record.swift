import EventLog
import Foundation

/// What a successful write appended, and what it caused.
///
/// The decisions and notifications of a large write are put in log order only when they are
/// first read, and an import can count them without keeping them (`keepingDecisions: false`):
/// a caller that wants only the positions and counts (such as `partnersync import`) does not pay
/// for millions of them.
public struct RecordResult: Sendable, Hashable {
  /// The position of the first event appended.
  public var firstPosition: Int64
  /// The position of the last event appended (`firstPosition - 1` when nothing was appended).
  public var lastPosition: Int64
  private var decisionList: DeferredList<SyncDecision>
  private var notificationList: DeferredList<PartnerNotification>

  init(
    firstPosition: Int64, lastPosition: Int64, decisions: DeferredList<SyncDecision>,
    notifications: DeferredList<PartnerNotification>
  ) {
    self.firstPosition = firstPosition
    self.lastPosition = lastPosition
    decisionList = decisions
    notificationList = notifications
  }

  /// The sync decisions the new events took, in order.
  public var decisions: [SyncDecision] {
    get { decisionList.items }
    set { decisionList = DeferredList(newValue) }
  }
  /// The notifications the new events sent, in order.
  public var notifications: [PartnerNotification] {
    get { notificationList.items }
    set { notificationList = DeferredList(newValue) }
  }

  /// How many events were appended.
  public var count: Int { Int(lastPosition - firstPosition + 1) }

  /// How many sync decisions the new events took: `decisions.count`, without putting them in
  /// order (or, of an import that did not keep them, their number).
  public var decisionCount: Int { decisionList.count }

  /// How many notifications the new events sent: `notifications.count`, without putting them in
  /// order (or, of an import that did not keep them, their number).
  public var notificationCount: Int { notificationList.count }

  /// Two results are equal when their positions, decisions and notifications are.
  public static func == (lhs: RecordResult, rhs: RecordResult) -> Bool {
    lhs.firstPosition == rhs.firstPosition && lhs.lastPosition == rhs.lastPosition
      && lhs.decisions == rhs.decisions && lhs.notifications == rhs.notifications
  }

  /// Hashes the positions, decisions and notifications.
  public func hash(into hasher: inout Hasher) {
    hasher.combine(firstPosition)
    hasher.combine(lastPosition)
    hasher.combine(decisions)
    hasher.combine(notifications)
  }
}

/// A list made when it is first read (then kept), or given as it is.
final class DeferredList<Item: Sendable>: @unchecked Sendable {
  // @unchecked Sendable: `make` and `made` are read and written under `lock` only.
  private let lock = NSLock()
  private var make: (@Sendable () -> [Item])?
  private var made: [Item]
  /// How many items the list has (or will have).
  let count: Int

  init(_ items: [Item]) {
    made = items
    count = items.count
  }

  init(count: Int, _ make: @escaping @Sendable () -> [Item]) {
    self.make = make
    self.count = count
    made = []
  }

  var items: [Item] {
    lock.lock()
    defer { lock.unlock() }
    if let make {
      made = make()
      self.make = nil
    }
    return made
  }
}

extension PartnerSyncLog {
  /// How often a write validated against a ticket that another writer changed meanwhile is
  /// validated again before giving up with ``PartnerSyncError/Code/versionConflict``.
  static let conflictRetries = 8

  /// Validates `events` against the rules and appends them all in one transaction, or nothing.
  ///
  /// An event without a time is recorded at `now`.
  /// - Throws: ``PartnerSyncError`` with code `invalidEvent` (and `line` = the 1-based index of
  ///   the first bad event) when the rules refuse an event; nothing is appended.
  @discardableResult
  public func record(_ events: [TicketEvent], now: Timestamp) throws(PartnerSyncError) -> RecordResult {
    var pending: [PendingEvent] = []
    pending.reserveCapacity(events.count)
    for (index, event) in events.enumerated() {
      for (field, id) in [("ticket", event.ticket), ("by", event.by)] {
        if let problem = Identifier.problem(with: id) {
          throw PartnerSyncError(.invalidEvent, "field '\(field)' \(problem)", line: index + 1)
        }
      }
      // Encoded once the rules accepted it (`PendingEvent.record(now:)`): a number out of its
      // bounds (an infinity) has no stored form, and is refused by the rules like any other.
      pending.append(PendingEvent(event, line: index + 1, encode: false))
    }
    return try append(pending, now: now)
  }

  /// Parses a JSON Lines document into events, each with its line number.
  static func parseJSONLines(_ array: [UInt8]) throws(PartnerSyncError) -> [(event: TicketEvent, line: Int)] {
    let result = array.withUnsafeBufferPointer { buffer in
      Result { () throws(PartnerSyncError) in try parseJSONLines(DocumentBytes(buffer: buffer)) }
    }
    return try result.get()
  }

  private static func parseJSONLines(_ bytes: DocumentBytes) throws(PartnerSyncError) -> [(
    event: TicketEvent, line: Int
  )] {
    let document = DocumentLines(bytes)
    // A large document is parsed in two halves at once; the first bad line of the first half is
    // still reported before any of the second.
    let lines = document.lines
    guard bytes.count >= DocumentLines.parallelBytes, lines.count > 1 else {
      let (events, failure) = parseLines(bytes, lines[...])
      if let failure { throw failure }
      return events
    }
    let split = lines.count / 2
    let second = ParsedLines()
    let worker = Worker(name: "PartnerSync parser") {
      (second.events, second.failure) = parseLines(bytes, lines[split...])
    }
    let (events, failure) = parseLines(bytes, lines[..<split])
    worker.join()
    if let failure = failure ?? second.failure { throw failure }
    return events + second.events
  }

  /// The events of `lines`, up to the first bad line, which is returned as the failure.
  private static func parseLines(
    _ bytes: DocumentBytes, _ lines: ArraySlice<DocumentLines.Line>
  ) -> (events: [(event: TicketEvent, line: Int)], failure: PartnerSyncError?) {
    var events: [(event: TicketEvent, line: Int)] = []
    events.reserveCapacity(lines.count)
    for line in lines {
      switch parseLine(bytes, line) {
      case .success(let pending): events.append((pending.event, pending.line))
      case .failure(let failure): return (events, failure)
      }
    }
    return (events, nil)
  }

  /// Parses `line` of the document `bytes`.
  static func parseLine(
    _ bytes: DocumentBytes, _ line: DocumentLines.Line
  ) -> Result<PendingEvent, PartnerSyncError> {
    parseLine(bytes[line.start..<line.end], number: line.number)
  }

  /// Parses the line `slice`, number `number` of its document, into an event with its line
  /// number (its stored data is encoded when it is handed to the log, see
  /// `TicketEvent.withRecordBytes(now:_:)`).
  static func parseLine(
    _ slice: UnsafeBufferPointer<UInt8>, number: Int
  ) -> Result<PendingEvent, PartnerSyncError> {
    if slice.count > EventCodec.maximumLineLength {
      return .failure(
        PartnerSyncError(
          .invalidEvent,
          "the line is \(slice.count) bytes long; an event line may be at most \(EventCodec.maximumLineLength) bytes",
          line: number))
    }
    do {
      let value = try JSONParser.parse(slice)
      return .success(PendingEvent(try EventCodec.decode(line: value), line: number, encode: false))
    } catch let error as JSONParseError {
      // A number beyond any `Double` is valid JSON that no field allows: said as its field's bounds.
      if error.isNumberTooLarge, let problem = NumberField.problem(numberAt: error.offset, in: slice) {
        return .failure(PartnerSyncError(.invalidEvent, problem, line: number))
      }
      return .failure(
        PartnerSyncError(.invalidEvent, "invalid JSON at column \(error.offset + 1): \(error.message)", line: number))
    } catch let error as EventFormatError {
      return .failure(PartnerSyncError(.invalidEvent, error.message, line: number))
    } catch {
      return .failure(PartnerSyncError(.invalidEvent, "\(error)", line: number))
    }
  }

  func append(
    _ events: [PendingEvent], now: Timestamp, progress: ProgressHandler? = nil
  ) throws(PartnerSyncError) -> RecordResult {
    try retryingConflicts(on: events.map(\.event.ticket)) { () throws(PartnerSyncError) in
      try appendOnce(events, now: now, progress: progress)
    }
  }

  /// Validates the batch against the touched tickets' projections and appends it in one
  /// transaction, the two overlapping: each event is folded (validated) and encoded on this
  /// thread while the log hashes and writes the ones before it (see
  /// `EventLogWriter.append(expectedVersions:_:)`). An event the rules refuse rolls the whole
  /// transaction back.
  private func appendOnce(
    _ events: [PendingEvent], now: Timestamp, progress: ProgressHandler?
  ) throws(PartnerSyncError) -> RecordResult {
    var batch = try TicketBatch(events: events, log: self)
    guard !events.isEmpty else {
      let appended = try PartnerSyncError.wrap { try store.append([], expectedVersions: batch.expected) }
      return RecordResult(
        firstPosition: appended.firstPosition, lastPosition: appended.lastPosition, decisions: DeferredList([]),
        notifications: DeferredList([]))
    }
    let total = Int64(events.count)
    var foldedFrom: Int64?
    let appended: AppendResult
    // A large batch's projections that the result does not need are freed on another thread while
    // the log commits (writing out and syncing the transaction keeps this thread waiting).
    let freeing = Freeing()
    var freer: Worker?
    defer { freer?.join() }
    do {
      appended = try PartnerSyncError.wrap {
        try store.append(expectedVersions: batch.expected) { appender in
          foldedFrom = appender.firstPosition
          try batch.fold(events, from: appender.firstPosition, now: now) { index, record in
            if let progress, index & 0xFFF == 0 {
              progress(ProgressReport(phase: .validating, done: Int64(index), total: total))
            }
            try appender.append(record)
          }
          progress?(ProgressReport(phase: .writing, done: 0, total: total))
          if events.count >= Self.backgroundFreeingEvents {
            freeing.projections = batch.detach(
              from: appender.firstPosition, keeping: projectionCache.selection(of: batch.projections))
            freer = Worker(name: "PartnerSync import cleanup") { freeing.projections = [] }
          }
        }
      }
    } catch  where foldedFrom == nil && (error.code == .readOnly || error.code == .busy) {
      // The log refused before any event was validated: an event the rules refuse is still
      // reported first, as the one thing to fix in the input.
      var dryRun = try TicketBatch(events: events, log: self)
      do {
        try dryRun.fold(events, from: 1, now: now) { _, _ in }
      } catch let refused as PartnerSyncError {
        throw refused
      } catch {}
      throw error
    }
    let count = Int(appended.lastPosition - appended.firstPosition + 1)
    let first = appended.firstPosition
    if appended.firstPosition != foldedFrom {
      // The log placed the batch elsewhere than it announced (a log without its own streaming
      // append, shared with another writer): rebuild the touched tickets from the log to report
      // the decisions at their real positions.
      batch.lists = nil
      for index in batch.projections.indices {
        batch.projections[index] =
          try projection(ticket: batch.projections[index].ticket) ?? batch.projections[index]
      }
      for ticket in batch.detachedTickets {
        if let rebuilt = try projection(ticket: ticket) { batch.projections.append(rebuilt) }
      }
    }
    projectionCache.store(batch.projections)
    let decisionLists =
      batch.lists?.decisions ?? batch.projections.map { $0.decisions(from: first) }
    let notificationLists =
      batch.lists?.notifications
      ?? batch.projections.map { $0.notifications(from: first) }
    Self.logger.debug(
      "appended events",
      metadata: [
        "count": "\(count)", "first": "\(appended.firstPosition)", "last": "\(appended.lastPosition)",
      ])
    return RecordResult(
      firstPosition: appended.firstPosition, lastPosition: appended.lastPosition,
      decisions: DeferredList(count: decisionLists.reduce(0) { $0 + $1.count }) {
        Self.merge(decisionLists, first: first, count: count, position: \.position)
      },
      notifications: DeferredList(count: notificationLists.reduce(0) { $0 + $1.count }) {
        Self.merge(notificationLists, first: first, count: count, position: \.position)
      })
  }

  /// From this many events on, a batch's projections are freed on another thread while the log
  /// commits.
  static let backgroundFreeingEvents = 4096

  /// The elements of `items` (ordered by position) from position `first` on.
  static func suffix<Item>(
    _ items: [Item], from first: Int64, position: (Item) -> Int64
  ) -> ArraySlice<Item> {
    items[startOfSuffix(items, from: first, position: position)...]
  }

  /// The items of several tickets, each list in its ticket's order, merged by position: all the
  /// items at one position come from one event, so a stable counting sort keeps each ticket's
  /// order without comparing anything.
  static func merge<Item>(
    _ lists: [ArraySlice<Item>], first: Int64, count: Int, position: (Item) -> Int64
  ) -> [Item] {
    let total = lists.reduce(0) { $0 + $1.count }
    guard total > 0 else { return [] }
    if lists.count(where: { !$0.isEmpty }) == 1 { return Array(lists.first { !$0.isEmpty }!) }
    var starts = [Int](repeating: 0, count: count + 1)
    for list in lists {
      for item in list { starts[Int(position(item) - first) + 1] += 1 }
    }
    for index in 1..<starts.count { starts[index] += starts[index - 1] }
    return [Item](unsafeUninitializedCapacity: total) { buffer, initialized in
      for list in lists {
        for item in list {
          let offset = Int(position(item) - first)
          (buffer.baseAddress! + starts[offset]).initialize(to: item)
          starts[offset] += 1
        }
      }
      initialized = total
    }
  }
}

/// Projections being freed by another thread.
private final class Freeing: @unchecked Sendable {
  // @unchecked Sendable: set by the appending thread before the freeing thread starts, then
  // emptied by that thread only, and read by nobody.
  var projections: [TicketProjection] = []
}

/// What the second parsing thread found.
private final class ParsedLines: @unchecked Sendable {
  // @unchecked Sendable: written by the parsing thread, read after `Worker.join()`.
  var events: [(event: TicketEvent, line: Int)] = []
  var failure: PartnerSyncError?
}

/// An event on its way into the log: its line (or 1-based index) in the input, and its data as
/// stored, encoded once it is read (it depends on nothing but the event), or when it is recorded.
struct PendingEvent: Sendable {
  var event: TicketEvent
  var line: Int
  /// The stored data; empty when it is not encoded yet (``record(now:)`` then encodes it).
  var data: String

  init(_ event: TicketEvent, line: Int, encode: Bool = true) {
    self.event = event
    self.line = line
    data = encode ? EventCodec.data(of: event.payload) : ""
  }

  /// The event as the log stores it; without a time, at `now`. Call it only for an event the
  /// rules accepted (its numbers are then finite).
  func record(now: Timestamp) -> EventRecord {
    EventRecord(
      stream: event.ticket, type: event.type.rawValue, actor: event.by, time: (event.at ?? now).microseconds,
      data: data.isEmpty ? EventCodec.data(of: event.payload) : data)
  }
}

extension TicketEvent {
  /// Lends the event as the log stores it (without a time, at `now`) to `body`, as bytes valid
  /// only during `body`: its data is encoded on the stack and no string is made.
  func withRecordBytes<Result>(
    now: Timestamp, _ body: (EventRecordBytes) throws -> Result
  ) rethrows -> Result {
    let time = (at ?? now).microseconds
    return try EventCodec.withData(of: payload) { data in
      try ticket.withUTF8Bytes { stream in
        try type.rawValue.withUTF8Bytes { type in
          try by.withUTF8Bytes { actor in
            try body(EventRecordBytes(stream: stream, type: type, actor: actor, time: time, data: data))
          }
        }
      }
    }
  }
}

/// The tickets a batch touches: their projections before it (from the cache, else folded from
/// the log), the version each is expected to have, and each event's ticket.
struct TicketBatch {
  var projections: [TicketProjection] = []
  var expected: [String: Int64] = [:]
  /// Each event's index in `projections`.
  var slots: [Int] = []
  /// After `detach(from:keeping:)`: what the result reports, taken from every projection.
  var lists: (decisions: [ArraySlice<SyncDecision>], notifications: [ArraySlice<PartnerNotification>])?
  /// After `detach(from:keeping:)`: the tickets whose projections were handed over.
  var detachedTickets: [String] = []

  /// Takes from every projection the decisions and notifications from position `first` on (into
  /// `lists`), keeps the projections at `kept` (indices) and returns the others, to be freed.
  mutating func detach(from first: Int64, keeping kept: [Int]) -> [TicketProjection] {
    lists = (
      projections.map { $0.decisions(from: first) },
      projections.map { $0.notifications(from: first) }
    )
    var keep = [Bool](repeating: false, count: projections.count)
    for index in kept { keep[index] = true }
    var others: [TicketProjection] = []
    others.reserveCapacity(projections.count - kept.count)
    for (index, projection) in projections.enumerated() where !keep[index] {
      detachedTickets.append(projection.ticket)
      others.append(projection)
    }
    projections = kept.map { projections[$0] }  // in the cache's order
    return others
  }

  init(events: [PendingEvent], log: PartnerSyncLog) throws(PartnerSyncError) {
    var tickets = NameTable()
    // Into an empty log, every ticket is new: no need to ask the log about each.
    let empty = events.count > 1 ? try log.lastPosition() == 0 : false
    slots.reserveCapacity(events.count)
    for index in events.indices {
      let ticket = events[index].event.ticket
      let known = projections.count
      let slot = ticket.withUTF8Bytes { tickets.slot(of: $0) { _ in } }
      slots.append(slot)
      guard slot == known else { continue }
      let projection = try Self.projection(of: ticket, log: log, empty: empty)
      expected[ticket] = projection.version
      projections.append(projection)
    }
  }

  /// The projection of `ticket` before a write: the cached one (taken out of the cache), else
  /// folded from the log, else a new one. An `empty` log is not asked.
  static func projection(of ticket: String, log: PartnerSyncLog, empty: Bool) throws(PartnerSyncError)
    -> TicketProjection
  {
    if !empty {
      if let cached = log.projectionCache.take(ticket) { return cached }
      if let stored = try log.projection(ticket: ticket) { return stored }
    }
    return TicketProjection(ticket: ticket, rules: log.rules)
  }

  /// Folds the events, stamped with positions from `first` on, into the projections, and hands
  /// each event's record to `emit`; an event the rules refuse throws `invalidEvent` with its line.
  mutating func fold(
    _ events: [PendingEvent], from first: Int64, now: Timestamp,
    _ emit: (Int, EventRecord) throws -> Void
  ) throws {
    for index in events.indices {
      let slot = slots[index]
      do {
        try projections[slot].apply(events[index].event, position: first + Int64(index))
      } catch {
        throw PartnerSyncError(.invalidEvent, error.reason, line: events[index].line)
      }
      try emit(index, events[index].record(now: now))
    }
  }
}
