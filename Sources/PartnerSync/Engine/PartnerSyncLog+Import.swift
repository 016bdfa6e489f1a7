import EventLog
import Foundation

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
  ///   - now: The time of the events without `at`.
  ///   - keepingDecisions: Whether the result lists the decisions and notifications the events
  ///     took. With `false` it only counts them (``RecordResult/decisionCount``,
  ///     ``RecordResult/notificationCount``) and its lists are empty: a large import then holds
  ///     none of them (millions for millions of events), and they can still be read from the log
  ///     (``audit(ticket:entry:at:)``, ``notifications(ticket:after:)``).
  ///   - progress: Hears how far the reading and the validation are.
  /// - Throws: ``PartnerSyncError`` with code `invalidEvent` and the line number.
  @discardableResult
  public func importJSONLines(
    _ bytes: [UInt8], now: Timestamp, keepingDecisions: Bool = true, progress: ProgressHandler? = nil
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
    _ buffer: UnsafeRawBufferPointer, now: Timestamp, keepingDecisions: Bool = true,
    progress: ProgressHandler? = nil
  ) throws(PartnerSyncError) -> RecordResult {
    let result = buffer.withMemoryRebound(to: UInt8.self) { buffer in
      Result { () throws(PartnerSyncError) in
        try importDocument(
          DocumentBytes(buffer: buffer), now: now, progress: progress, keeping: keepingDecisions)
      }
    }
    return try result.get()
  }

  private func importDocument(
    _ bytes: DocumentBytes, now: Timestamp, progress: ProgressHandler?, keeping: Bool
  ) throws(PartnerSyncError) -> RecordResult {
    let document = DocumentLines(bytes, progress: progress)
    guard !document.lines.isEmpty else {
      throw PartnerSyncError(.invalidEvent, "the input holds no events (it is empty or blank)")
    }
    do {
      return try retryingConflicts(on: document.tickets) { () throws(PartnerSyncError) in
        try importOnce(document, bytes, now: now, progress: progress, keeping: keeping)
      }
    } catch  where error.code != .invalidEvent {
      // The log failed: a line that is not an event is still reported first, as the one thing to
      // fix in the input; and when the log only refused to be written (busy, read-only), also an
      // event that the rules refuse, found by folding the document without writing it.
      if error.code == .readOnly || error.code == .busy {
        var dryRun = try ImportFold(document, log: self, empty: try lastPosition() == 0, keeping: false)
        do {
          try dryRun.run(bytes, from: 1, now: now, progress: nil) { _ in }
        } catch let refused as PartnerSyncError {
          throw refused
        } catch {}
      } else {
        try ImportFold.firstInvalidLine(in: bytes, document.lines[...])
      }
      throw error
    }
  }

  /// Runs `write` again, with the projections of `tickets` dropped from the cache, while it fails
  /// with a version conflict (another writer changed one of the tickets it validated against),
  /// up to ``conflictRetries`` times in all.
  func retryingConflicts<Result>(
    on tickets: @autoclosure () -> [String], _ write: () throws(PartnerSyncError) -> Result
  ) throws(PartnerSyncError) -> Result {
    var attempt = 0
    while true {
      attempt += 1
      do {
        return try write()
      } catch {
        guard error.code == .versionConflict, attempt < Self.conflictRetries else { throw error }
        // The projections this attempt started from are stale: fold those tickets afresh.
        projectionCache.remove(tickets())
        Self.logger.debug(
          "another writer changed a ticket of this batch; validating again",
          metadata: ["attempt": "\(attempt)", "reason": "\(error.message)"])
      }
    }
  }

  /// Parses, validates and appends the document in one transaction, the two overlapping: this
  /// thread parses each line and folds it into its ticket's projection, and the log hashes and
  /// writes the records on a thread of its own.
  private func importOnce(
    _ document: DocumentLines, _ bytes: DocumentBytes, now: Timestamp, progress: ProgressHandler?, keeping: Bool
  ) throws(PartnerSyncError) -> RecordResult {
    // Into an empty log, every ticket is new: no need to ask the log about each.
    let empty = try lastPosition() == 0
    var fold = try ImportFold(document, log: self, empty: empty, keeping: keeping)
    var foldedFrom: Int64?
    let appended = try PartnerSyncError.wrap {
      try store.append(expectedVersions: fold.expected) { appender in
        foldedFrom = appender.firstPosition
        try fold.run(bytes, from: appender.firstPosition, now: now, progress: progress) { event in
          try appender.append(event)
        }
        progress?(ProgressReport(phase: .writing, done: 0, total: Int64(document.lines.count)))
      }
    }
    let first = appended.firstPosition
    let last = appended.lastPosition
    var decisionLists = fold.decisionLists
    var notificationLists = fold.notificationLists
    if first == foldedFrom {
      projectionCache.store(fold.latestFinished)
    } else if keeping {
      // The log placed the document elsewhere than it announced (a log without its own
      // streaming append, shared with another writer): the projections folded here carry the
      // wrong positions (so none is cached), and the decisions are taken from the tickets folded
      // from the log.
      decisionLists = []
      notificationLists = []
      for ticket in document.tickets {
        guard let projection = try projection(ticket: ticket, through: last) else { continue }
        decisionLists.append(Self.items(projection.decisions, from: first, through: last, position: \.position))
        notificationLists.append(
          Self.items(projection.notifications, from: first, through: last, position: \.position))
      }
    }
    let count = Int(last - first + 1)
    Self.logger.debug("imported events", metadata: ["count": "\(count)", "first": "\(first)", "last": "\(last)"])
    let decisions = decisionLists
    let notifications = notificationLists
    return RecordResult(
      firstPosition: first, lastPosition: last,
      decisions: DeferredList(count: fold.decisionCount) {
        Self.merge(decisions, first: first, count: count, position: \.position)
      },
      notifications: DeferredList(count: fold.notificationCount) {
        Self.merge(notifications, first: first, count: count, position: \.position)
      })
  }

  /// The elements of `items` (ordered by position) from position `first` through `last`.
  static func items<Item>(
    _ items: [Item], from first: Int64, through last: Int64, position: (Item) -> Int64
  ) -> ArraySlice<Item> {
    let tail = suffix(items, from: first, position: position)
    return tail.prefix { position($0) <= last }
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
  /// The projections of the tickets finished last: a ring of at most `keep`, the oldest at
  /// `oldest` once it is full.
  private var finished: [TicketProjection] = []
  private var oldest = 0
  private let keep: Int

  /// Loads the projection of every ticket of `document` (see `TicketBatch.projection(of:log:empty:)`);
  /// with `keeping`, the fold keeps what it reports.
  init(_ document: DocumentLines, log: PartnerSyncLog, empty: Bool, keeping: Bool) throws(PartnerSyncError) {
    self.document = document
    self.keeping = keeping
    keep = log.projectionCache.capacity
    projections.reserveCapacity(document.tickets.count)
    for ticket in document.tickets {
      let projection = try TicketBatch.projection(of: ticket, log: log, empty: empty)
      expected[ticket] = projection.version
      projections.append(projection)
    }
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
    _ bytes: DocumentBytes, from first: Int64, now: Timestamp, progress: ProgressHandler?,
    _ emit: (EventRecordBytes) throws -> Void
  ) throws {
    let lines = document.lines
    let total = Int64(lines.count)
    for index in lines.indices {
      let line = lines[index]
      let pending: PendingEvent
      switch PartnerSyncLog.parseLine(bytes, line) {
      case .success(let event): pending = event
      case .failure(let failure): throw failure
      }
      let slot = Int(line.ticket)
      precondition(
        slot >= 0 && pending.event.ticket == document.tickets[slot],
        "line \(line.number) was parsed with another ticket than the document's lines found")
      do {
        try projections[slot]!.apply(pending.event, position: first + Int64(index))
      } catch {
        try Self.firstInvalidLine(in: bytes, lines[(index + 1)...])
        throw PartnerSyncError(.invalidEvent, error.reason, line: line.number)
      }
      try pending.event.withRecordBytes(now: now, emit)
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

  /// Throws the error of the first of `lines` that is not a valid event, if any.
  static func firstInvalidLine(
    in bytes: DocumentBytes, _ lines: ArraySlice<DocumentLines.Line>
  ) throws(PartnerSyncError) {
    for line in lines {
      if case .failure(let failure) = PartnerSyncLog.parseLine(bytes, line) { throw failure }
    }
  }
}
