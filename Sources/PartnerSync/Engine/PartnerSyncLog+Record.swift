import EventLog

/// What a successful write appended, and what it caused.
public struct RecordResult: Sendable, Hashable {
  /// The position of the first event appended.
  public var firstPosition: Int64
  /// The position of the last event appended (`firstPosition - 1` when nothing was appended).
  public var lastPosition: Int64
  /// The sync decisions the new events took, in order.
  public var decisions: [SyncDecision]
  /// The notifications the new events sent, in order.
  public var notifications: [PartnerNotification]

  /// How many events were appended.
  public var count: Int { Int(lastPosition - firstPosition + 1) }
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
    let numbered = events.enumerated().map { (event: $0.element, line: $0.offset + 1) }
    for (event, line) in numbered {
      for (field, id) in [("ticket", event.ticket), ("by", event.by)] {
        if let problem = Identifier.problem(with: id) {
          throw PartnerSyncError(.invalidEvent, "field '\(field)' \(problem)", line: line)
        }
      }
    }
    return try append(numbered, now: now)
  }

  /// Validates and appends a JSON Lines document (the `import` format) in one transaction.
  ///
  /// Blank lines are skipped; `position` fields are ignored; a line without `at` is recorded at
  /// `now`. The first bad line fails the whole document and nothing is appended.
  /// - Throws: ``PartnerSyncError`` with code `invalidEvent` and the line number.
  @discardableResult
  public func importJSONLines(
    _ bytes: [UInt8], now: Timestamp, progress: ProgressHandler? = nil
  ) throws(PartnerSyncError) -> RecordResult {
    let events = try Self.parseJSONLines(bytes, progress: progress)
    guard !events.isEmpty else {
      throw PartnerSyncError(.invalidEvent, "the input holds no events (it is empty or blank)")
    }
    return try append(events, now: now, progress: progress)
  }

  /// Parses a JSON Lines document into events, each with its line number.
  static func parseJSONLines(
    _ bytes: [UInt8], progress: ProgressHandler? = nil
  ) throws(PartnerSyncError) -> [(event: TicketEvent, line: Int)] {
    var events: [(event: TicketEvent, line: Int)] = []
    var failure: PartnerSyncError?
    bytes.withUnsafeBufferPointer { buffer in
      var start = 0
      var line = 0
      while start < buffer.count {
        line += 1
        if let progress, line & 0xFFF == 0 {
          progress(ProgressReport(phase: .reading, done: Int64(start), total: Int64(buffer.count)))
        }
        var end = start
        while end < buffer.count, buffer[end] != 0x0A { end += 1 }
        var stop = end
        if stop > start, buffer[stop - 1] == 0x0D { stop -= 1 }
        defer { start = end + 1 }
        let slice = UnsafeBufferPointer(rebasing: buffer[start..<stop])
        if slice.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
        if slice.count > EventCodec.maximumLineLength {
          failure = PartnerSyncError(
            .invalidEvent,
            "the line is \(slice.count) bytes long; an event line may be at most \(EventCodec.maximumLineLength) bytes",
            line: line)
          return
        }
        do {
          let value = try JSONParser.parse(slice)
          events.append((try EventCodec.decode(line: value), line))
        } catch let error as JSONParseError {
          failure = PartnerSyncError(
            .invalidEvent, "invalid JSON at column \(error.offset + 1): \(error.message)", line: line)
          return
        } catch let error as EventFormatError {
          failure = PartnerSyncError(.invalidEvent, error.message, line: line)
          return
        } catch {
          failure = PartnerSyncError(.invalidEvent, "\(error)", line: line)
          return
        }
      }
    }
    if let failure { throw failure }
    return events
  }

  func append(
    _ events: [(event: TicketEvent, line: Int)], now: Timestamp, progress: ProgressHandler? = nil
  ) throws(PartnerSyncError) -> RecordResult {
    var attempt = 0
    while true {
      attempt += 1
      do {
        return try appendOnce(events, now: now, progress: progress)
      } catch {
        guard error.code == .versionConflict, attempt < Self.conflictRetries else { throw error }
        Self.logger.debug(
          "another writer changed a ticket of this batch; validating again",
          metadata: ["attempt": "\(attempt)", "reason": "\(error.message)"])
      }
    }
  }

  private func appendOnce(
    _ events: [(event: TicketEvent, line: Int)], now: Timestamp, progress: ProgressHandler?
  ) throws(PartnerSyncError) -> RecordResult {
    var projections: [String: TicketProjection] = [:]
    var expected: [String: Int64] = [:]
    let base = try lastPosition()
    var records: [EventRecord] = []
    records.reserveCapacity(events.count)
    let total = Int64(events.count)
    for (index, (event, line)) in events.enumerated() {
      if let progress, index & 0xFFF == 0 {
        progress(ProgressReport(phase: .validating, done: Int64(index), total: total))
      }
      let ticket = event.ticket
      if projections[ticket] == nil {
        let existing = try projection(ticket: ticket) ?? TicketProjection(ticket: ticket, rules: rules)
        expected[ticket] = existing.version
        projections[ticket] = existing
      }
      let at = event.at ?? now
      var stamped = event
      stamped.at = at
      let recorded = RecordedEvent(
        position: base + Int64(index) + 1, version: projections[ticket]!.version + 1, at: at,
        event: stamped)
      do {
        try projections[ticket]!.apply(recorded)
      } catch {
        throw PartnerSyncError(.invalidEvent, error.reason, line: line)
      }
      records.append(
        EventRecord(
          stream: ticket, type: event.type.rawValue, actor: event.by, time: at.microseconds,
          data: EventCodec.data(of: event.payload)))
    }
    progress?(ProgressReport(phase: .writing, done: 0, total: total))
    let appended = try PartnerSyncError.wrap {
      try store.append(records, expectedVersions: expected)
    }
    if appended.firstPosition != base + 1 {
      // Another writer appended to other tickets meanwhile: positions moved, so rebuild the
      // touched tickets from the log to report the decisions at their real positions.
      for ticket in projections.keys {
        projections[ticket] = try projection(ticket: ticket)
      }
    }
    let range = appended.firstPosition...max(appended.firstPosition, appended.lastPosition)
    var decisions: [SyncDecision] = []
    var notifications: [PartnerNotification] = []
    for projection in projections.values {
      decisions += projection.decisions.filter { range.contains($0.position) }
      notifications += projection.notifications.filter { range.contains($0.position) }
    }
    // Each ticket's own order is kept; tickets interleave by position.
    decisions = decisions.enumerated().sorted {
      ($0.element.position, $0.offset) < ($1.element.position, $1.offset)
    }.map(\.element)
    notifications = notifications.enumerated().sorted {
      ($0.element.position, $0.offset) < ($1.element.position, $1.offset)
    }.map(\.element)
    Self.logger.debug(
      "appended events",
      metadata: [
        "count": "\(records.count)", "first": "\(appended.firstPosition)", "last": "\(appended.lastPosition)",
      ])
    return RecordResult(
      firstPosition: appended.firstPosition, lastPosition: appended.lastPosition,
      decisions: decisions, notifications: notifications)
  }
}
