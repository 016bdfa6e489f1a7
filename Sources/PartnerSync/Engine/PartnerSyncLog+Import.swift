import EventLog
import Foundation
import PartnerSyncDomain
import PostgresEventLog

extension PartnerSyncLog {
  /// Validates and appends a JSON Lines document (the `import` format) in one transaction.
  ///
  /// Blank lines are skipped; `position` fields are ignored; a line without `at` is recorded at
  /// `now`. The first bad line fails the whole document and nothing is appended; a line that is
  /// not a valid event is reported before any event that the rules refuse, and before an error
  /// of the log, wherever it is.
  ///
  /// The document is validated as it is parsed, line by line, and written as it goes (SQLite's
  /// log writes on a thread of its own meanwhile); a ticket's projection is let go once its last
  /// line is folded (the projections of the tickets finished last stay cached for the writes
  /// that follow).
  ///
  /// - Parameters:
  ///   - bytes: The document, UTF-8 JSON Lines.
  ///   - now: The time of the events without `at`; by default the clock's time of the call.
  ///   - keepingDecisions: Whether the result lists the decisions and notifications the events
  ///     took. With `false` it only counts them (``RecordResult/decisionCount``,
  ///     ``RecordResult/notificationCount``) and its lists are empty: a large import then holds
  ///     none of them (millions for millions of events), and they can still be read from the log
  ///     (``audit(ticket:entry:at:as:)-a2yx``, ``notifications(ticket:after:as:)-42ii4``).
  ///   - progress: Hears how far the reading and the validation are.
  /// - Throws: ``PartnerSyncError`` with code `invalidEvent` and the line number.
  @discardableResult
  public func importJSONLines(
    _ bytes: [UInt8], now: Timestamp = .now(), keepingDecisions: Bool = true, progress: ProgressHandler? = nil
  ) throws(PartnerSyncError) -> RecordResult {
    let result = bytes.withUnsafeBytes { buffer in
      Result { () throws(PartnerSyncError) in
        try importJSONLines(buffer, now: now, keepingDecisions: keepingDecisions, progress: progress)
      }
    }
    return try result.get()
  }

  /// Validates and appends a JSON Lines document that the caller lends in place (the bytes of a
  /// file read into memory, say), like the import of an array of bytes: the bytes must stay valid,
  /// and unchanged, until the import returns (it keeps no reference to them).
  @discardableResult
  public func importJSONLines(
    _ buffer: UnsafeRawBufferPointer, now: Timestamp = .now(), keepingDecisions: Bool = true,
    progress: ProgressHandler? = nil
  ) throws(PartnerSyncError) -> RecordResult {
    let result = buffer.withMemoryRebound(to: UInt8.self) { buffer in
      Result { () throws(PartnerSyncError) in
        let document = DocumentLines(DocumentBytes(buffer: buffer), progress: progress)
        guard !document.lines.isEmpty else {
          throw PartnerSyncError(.invalidEvent, "the input holds no events (it is empty or blank)")
        }
        return try write(document, now: now, progress: progress, keeping: keepingDecisions)
      }
    }
    return try result.get()
  }

  /// Imports a JSON Lines document into a new SQLite log at `path`, created with it: when the
  /// import fails, no log is left at `path` (see `SQLiteEventLog.create(path:options:_:)`).
  /// When another process created the log first, the document is imported into that log like
  /// into any other. A `postgresql://` URL names a PostgreSQL log (see
  /// ``open(url:create:readOnly:rules:wait:)-7wz0j``): one that does not exist is created in the
  /// import's transaction, so a failed import leaves none either.
  ///
  /// - Throws: ``PartnerSyncError`` as ``importJSONLines(_:now:keepingDecisions:progress:)-(UnsafeRawBufferPointer,_,_,_)``
  ///   and ``open(path:create:readOnly:rules:wait:)-99n9u`` do.
  @discardableResult
  public static func importJSONLines(
    _ bytes: UnsafeRawBufferPointer, intoNewLogAt path: String, rules: RuleSet = .standard,
    wait: Duration = .seconds(5), now: Timestamp = .now(), keepingDecisions: Bool = true,
    progress: ProgressHandler? = nil
  ) throws(PartnerSyncError) -> RecordResult {
    if PostgresLocation.isURL(path) {
      return try open(
        postgresURL: path, create: true, readOnly: false, rules: rules, wait: wait, createWithFirstAppend: true
      )
      .importJSONLines(bytes, now: now, keepingDecisions: keepingDecisions, progress: progress)
    }
    if let problem = problem(withPath: path, create: true) { throw problem }
    let staging = SQLiteEventLog.stagingPath(for: path)
    do {
      let created = try PartnerSyncError.wrap {
        try SQLiteEventLog.create(path: path, options: options(wait: wait)) { store in
          try PartnerSyncLog(store: store, rules: rules).importJSONLines(
            bytes, now: now, keepingDecisions: keepingDecisions, progress: progress)
        }
      }
      if let created { return created }
    } catch  where error.code != .invalidEvent {
      // Errors about the log name the log, not its private staging name.
      throw PartnerSyncError(error.code, error.message.replacingOccurrences(of: staging, with: path), line: error.line)
    }
    return try open(path: path, create: true, rules: rules, wait: wait).importJSONLines(
      bytes, now: now, keepingDecisions: keepingDecisions, progress: progress)
  }

  /// Parses a JSON Lines document into events, each with its line number.
  static func parseJSONLines(_ array: [UInt8]) throws(PartnerSyncError) -> [PendingEvent] {
    let result = array.withUnsafeBufferPointer { buffer in
      Result { () throws(PartnerSyncError) in
        let document = DocumentLines(DocumentBytes(buffer: buffer))
        return try document.lines.map { line throws(PartnerSyncError) in try document.event(line).get() }
      }
    }
    return try result.get()
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
      return .success((try EventCodec.decode(line: slice), number))
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
}

/// The fold of an import: the document's events, parsed and folded into their tickets'
/// projections in document order.
///
/// Parsing and folding are one thread's work: the strings a line's event is made of are then
/// made, kept in the projection and freed on that thread (made on one thread and freed on
/// another, each string costs both of them more, see `Docs/performance.md`).
///
/// A ticket's projection is let go once its last line is folded: the import counts its decisions
/// and notifications (and keeps them, from the first position on, when asked to), and keeps only
/// the projections of the tickets finished last, as many as the projection cache holds.
struct ImportFold {
  /// The document's lines and tickets.
  let document: DocumentLines
  /// By ticket slot: the ticket's projection, until its last line is folded.
  private var projections: [TicketProjection?] = []
  /// The version each ticket is expected to have in the log.
  private(set) var expected: [String: Int64] = [:]
  /// How many decisions and notifications the document's events took.
  private(set) var decisionCount = 0
  private(set) var notificationCount = 0
  /// With `keeping`: of each finished ticket, the decisions and notifications from the first
  /// position on.
  private(set) var decisionLists: [ArraySlice<SyncDecision>] = []
  private(set) var notificationLists: [ArraySlice<PartnerNotification>] = []
  private let keeping: Bool
  /// The outbox messages of the event under way.
  private var outbox = OutboxFrames()
  /// The projections of the tickets finished last: a ring of at most `keep`, the oldest at
  /// `oldest` once it is full.
  private var finished: [TicketProjection] = []
  private var oldest = 0
  private let keep: Int

  /// Loads the projection of every ticket of `document` (see `projection(of:log:empty:)`);
  /// with `keeping`, the fold keeps what it reports.
  init(_ document: DocumentLines, log: PartnerSyncLog, empty: Bool, keeping: Bool) throws(PartnerSyncError) {
    self.document = document
    self.keeping = keeping
    keep = log.projectionCache.capacity
    projections.reserveCapacity(document.tickets.count)
    for ticket in document.tickets {
      let projection = try Self.projection(of: ticket, log: log, empty: empty)
      expected[ticket] = projection.version
      projections.append(projection)
    }
  }

  /// The projection of `ticket` before a write: the cached one (taken out of the cache), else
  /// folded from the log, else a new one. An `empty` log is not asked.
  private static func projection(
    of ticket: String, log: PartnerSyncLog, empty: Bool
  ) throws(PartnerSyncError) -> TicketProjection {
    if !empty {
      if let cached = log.projectionCache.take(ticket) { return cached }
      if let stored = try log.projection(ticket: ticket) { return stored }
    }
    return TicketProjection(ticket: ticket, rules: log.rules)
  }

  /// The projections of the tickets finished last, the latest first.
  var latestFinished: [TicketProjection] {
    Array(finished[..<oldest].reversed()) + Array(finished[oldest...].reversed())
  }

  /// Parses the document's lines and folds them, stamped with positions from `first` on,
  /// lending each event, as the log stores it, to `emit`.
  ///
  /// The first line that is not a valid event throws `invalidEvent` with its number, and so does
  /// an event the rules refuse when no line after it is invalid.
  mutating func run(
    from first: Int64, now: Timestamp, progress: ProgressHandler?, _ emit: (EventRecordBytes) throws -> Void
  ) throws {
    let lines = document.lines
    let total = Int64(lines.count)
    for index in lines.indices {
      let line = lines[index]
      let pending: PendingEvent
      switch document.event(line) {
      case .success(let event): pending = event
      case .failure(let failure): throw failure
      }
      let slot = Int(line.ticket)
      precondition(
        slot >= 0 && pending.event.ticket == document.tickets[slot],
        "line \(line.number) was parsed with another ticket than the document's lines found")
      let sent = projections[slot]!.notifications.count
      do {
        try projections[slot]!.apply(pending.event, position: first + Int64(index))
      } catch {
        try document.firstInvalidLine(in: lines[(index + 1)...])
        throw PartnerSyncError(.invalidEvent, error.reason, line: line.number)
      }
      outbox.removeAll()
      for notification in projections[slot]!.notifications[sent...] { outbox.add(notification) }
      try pending.event.withRecordBytes(now: now, outbox: outbox, emit)
      if document.lastLine[slot] == index { finish(slot, from: first) }
      if let progress, index & 0xFFF == 0 {
        progress(ProgressReport(phase: .validating, done: Int64(index), total: total))
      }
    }
  }

  /// Lets the projection of the ticket at `slot` go, counting what the import reports.
  private mutating func finish(_ slot: Int, from first: Int64) {
    let projection = projections[slot].take()!
    let decisions = projection.decisions(from: first), notifications = projection.notifications(from: first)
    decisionCount += decisions.count
    notificationCount += notifications.count
    if keeping {
      decisionLists.append(decisions)
      notificationLists.append(notifications)
    }
    guard keep > 0 else { return }
    if finished.count < keep {
      finished.append(projection)
    } else {
      finished[oldest] = projection
      oldest = (oldest + 1) % keep
    }
  }
}
