extension SQLiteEventLog {
  /// The columns every event query selects, in the order `event(from:)` reads them.
  private static let eventColumns =
    "SELECT position, stream, version, type, actor, time_us, data, hash FROM events"

  /// Decodes the current row of a statement that selects `eventColumns`.
  @inline(__always)
  private static func event(from statement: SQLiteStatement) -> StoredEvent {
    StoredEvent(
      position: statement.int64(at: 0),
      stream: statement.text(at: 1),
      version: statement.int64(at: 2),
      type: statement.text(at: 3),
      actor: statement.text(at: 4),
      time: statement.int64(at: 5),
      data: statement.text(at: 6),
      hash: statement.blob(at: 7)
    )
  }

  /// Lends the current row of a statement that selects `eventColumns`.
  @inline(__always)
  private static func eventBytes(from statement: SQLiteStatement) -> StoredEventBytes {
    StoredEventBytes(
      position: statement.int64(at: 0),
      version: statement.int64(at: 2),
      time: statement.int64(at: 5),
      stream: statement.textBytes(at: 1),
      type: statement.textBytes(at: 3),
      actor: statement.textBytes(at: 4),
      data: statement.textBytes(at: 6),
      hash: statement.blobBytes(at: 7)
    )
  }

  /// One of the event queries: the statement after `eventColumns` and what it binds.
  private struct EventQuery {
    var condition: String
    var purpose: String
    var bind: (SQLiteStatement) throws -> Void = { _ in }

    /// Events with `from <= position <= through` (`through` nil = to the end), by position.
    static func byPosition(from: Int64, through: Int64?) -> EventQuery {
      EventQuery(condition: " WHERE position BETWEEN ?1 AND ?2 ORDER BY position", purpose: "read events by position") {
        try $0.bind(from, at: 1)
        try $0.bind(through ?? Int64.max, at: 2)
      }
    }

    /// One stream's events with `position <= throughPosition` (nil = all), by version.
    static func inStream(_ stream: String, throughPosition: Int64?) -> EventQuery {
      EventQuery(
        condition: " WHERE stream = ?1 AND position <= ?2 ORDER BY version", purpose: "read a stream's events"
      ) {
        try $0.bind(stream, at: 1)
        try $0.bind(throughPosition ?? Int64.max, at: 2)
      }
    }
  }

  /// Steps through the events `query` selects (the columns of `select`, by default
  /// `eventColumns`), one row at a time, inside a read transaction, handing `body` each row as
  /// `row` reads it, until the rows end or `body` returns false.
  private func scan<Row>(
    _ query: EventQuery, select: String = eventColumns, row: (SQLiteStatement) -> Row,
    _ body: (Row) throws -> Bool
  ) throws {
    try read { connection in
      try connection.withStatement(select + query.condition, purpose: query.purpose) { statement in
        try query.bind(statement)
        while try statement.step() {
          guard try body(row(statement)) else { return }
        }
      }
    }
  }

  /// The position of the last event, or 0 when the log is empty.
  public func lastPosition() throws -> Int64 {
    try query { connection in
      try connection.integer("SELECT max(position) FROM events", purpose: "read the last position")
    }
  }

  /// The version of the last event of `stream`, or 0 when the stream has no events.
  public func version(of stream: String) throws -> Int64 {
    try query { connection in
      try Self.currentVersion(of: stream, on: connection)
    }
  }

  /// The version of the last event of `stream` as the connection sees it now.
  static func currentVersion(of stream: String, on connection: SQLiteConnection) throws -> Int64 {
    try connection.integer(
      "SELECT max(version) FROM events WHERE stream = ?1",
      purpose: "read a stream's version"
    ) { statement in
      try statement.bind(stream, at: 1)
    }
  }

  /// Streams events with `from <= position <= through` (`through` nil = to the
  /// end), in position order, one row at a time. Return false from body to stop early.
  public func forEachEvent(from: Int64, through: Int64?, _ body: (StoredEvent) throws -> Bool)
    throws
  {
    try scan(.byPosition(from: from, through: through), row: Self.event(from:), body)
  }

  /// Streams one stream's events in version order, only those with
  /// `position <= throughPosition` (nil = all).
  public func forEachEvent(
    inStream stream: String,
    throughPosition: Int64?,
    _ body: (StoredEvent) throws -> Bool
  ) throws {
    try scan(.inStream(stream, throughPosition: throughPosition), row: Self.event(from:), body)
  }

  /// Streams every event ordered by (stream, version); streams come in byte
  /// order of their UTF-8 names.
  public func forEachEventGroupedByStream(_ body: (StoredEvent) throws -> Bool) throws {
    try scan(
      EventQuery(condition: " ORDER BY stream, version", purpose: "read events by stream"), row: Self.event(from:),
      body)
  }

  /// Streams events with `from <= position <= through` (`through` nil = to the
  /// end) in position order, lending each row's columns as bytes.
  public func forEachEventBytes(
    from: Int64, through: Int64?, _ body: (StoredEventBytes) throws -> Bool
  ) throws {
    try scan(.byPosition(from: from, through: through), row: Self.eventBytes(from:), body)
  }

  /// Streams events by position as bytes, selecting of `version`, `time` and
  /// `hash` only the `columns` asked for: each column a row is read for costs
  /// SQLite a column step and the caller a call.
  public func forEachEventBytes(
    from: Int64, through: Int64?, columns: StoredEventBytes.Columns,
    _ body: (StoredEventBytes) throws -> Bool
  ) throws {
    if columns == .all { return try forEachEventBytes(from: from, through: through, body) }
    // Always position, stream, type, actor and data (0…4); then the extra columns asked for.
    var select = "SELECT position, stream, type, actor, data"
    var next: Int32 = 5
    func extra(_ column: StoredEventBytes.Columns, _ name: String) -> Int32? {
      guard columns.contains(column) else { return nil }
      select += ", " + name
      defer { next += 1 }
      return next
    }
    let version = extra(.version, "version")
    let time = extra(.time, "time_us")
    let hash = extra(.hash, "hash")
    let row = { (statement: SQLiteStatement) in
      StoredEventBytes(
        position: statement.int64(at: 0),
        version: version.map { statement.int64(at: $0) } ?? 0,
        time: time.map { statement.int64(at: $0) } ?? 0,
        stream: statement.textBytes(at: 1),
        type: statement.textBytes(at: 2),
        actor: statement.textBytes(at: 3),
        data: statement.textBytes(at: 4),
        hash: hash.map { statement.blobBytes(at: $0) } ?? UnsafeBufferPointer(start: nil, count: 0))
    }
    try scan(.byPosition(from: from, through: through), select: select + " FROM events", row: row, body)
  }

  /// Streams one stream's events with `position <= throughPosition` (nil =
  /// all) in version order, lending each row's columns as bytes.
  public func forEachEventBytes(
    inStream stream: String, throughPosition: Int64?, _ body: (StoredEventBytes) throws -> Bool
  ) throws {
    try scan(.inStream(stream, throughPosition: throughPosition), row: Self.eventBytes(from:), body)
  }

  /// Every stream with events at or before `position` (nil = the whole log):
  /// its version and last position there, sorted by the bytes of the names.
  ///
  /// It reads only the `(stream, version)` index, not the events, and seeks
  /// once per stream instead of passing over every entry: walking the index
  /// backwards, the entry before the last stream found is the next stream's
  /// last event. Only a stream whose last event lies after `position` (one
  /// appended while this ran) takes a second seek, to its last entry at or
  /// before `position` (a stream's positions grow with its versions).
  public func streamSummaries(through position: Int64?) throws -> [StreamSummary] {
    try read { connection in
      let through = position ?? Int64.max
      var summaries: [StreamSummary] = []
      var previous: String?
      while true {
        let next: StreamSummary? = try connection.withStatement(
          previous == nil
            ? "SELECT stream, version, position FROM events ORDER BY stream DESC, version DESC LIMIT 1"
            : "SELECT stream, version, position FROM events WHERE stream < ?1 ORDER BY stream DESC, version DESC LIMIT 1",
          purpose: "find the next stream's last event"
        ) { statement in
          if let previous { try statement.bind(previous, at: 1) }
          return try statement.step()
            ? StreamSummary(
              name: statement.text(at: 0), version: statement.int64(at: 1), lastPosition: statement.int64(at: 2))
            : nil
        }
        guard let last = next else { return summaries.reversed() }
        previous = last.name
        if last.lastPosition <= through {
          summaries.append(last)
          continue
        }
        let summary = try connection.withStatement(
          "SELECT version, position FROM events WHERE stream = ?1 AND position <= ?2 ORDER BY version DESC LIMIT 1",
          purpose: "read a stream's last event"
        ) { statement in
          try statement.bind(last.name, at: 1)
          try statement.bind(through, at: 2)
          return try statement.step()
            ? StreamSummary(name: last.name, version: statement.int64(at: 0), lastPosition: statement.int64(at: 1))
            : nil
        }
        if let summary { summaries.append(summary) }
      }
    }
  }

  /// The last position of each of `streams` at or before `position`: one seek
  /// into the `(stream, version)` index per stream, in one read.
  public func lastPositions(ofStreams streams: [String], through position: Int64) throws -> [Int64?] {
    try read { connection in
      try connection.withStatement(
        "SELECT position FROM events WHERE stream = ?1 AND position <= ?2 ORDER BY version DESC LIMIT 1",
        purpose: "read a stream's last event"
      ) { statement in
        try streams.map { stream in
          try statement.bind(stream, at: 1)
          try statement.bind(position, at: 2)
          defer { statement.reset() }
          return try statement.step() ? statement.int64(at: 0) : nil
        }
      }
    }
  }

  /// The highest position of `stream` whose time is at or before `time`, or nil.
  public func lastPosition(inStream stream: String, atOrBefore time: Int64) throws -> Int64? {
    try query { connection in
      try connection.optionalInteger(
        "SELECT max(position) FROM events WHERE stream = ?1 AND time_us <= ?2",
        purpose: "find a stream's last position at a time"
      ) { statement in
        try statement.bind(stream, at: 1)
        try statement.bind(time, at: 2)
      }
    }
  }

  /// The highest position of `stream` before its first event stamped after
  /// `time`, or nil (see the protocol).
  public func lastPosition(inStream stream: String, beforeFirstAfter time: Int64) throws -> Int64? {
    try query { connection in
      try connection.optionalInteger(
        """
        SELECT max(position) FROM events WHERE stream = ?1 AND position < coalesce(
          (SELECT min(position) FROM events WHERE stream = ?1 AND time_us > ?2), 9223372036854775807)
        """,
        purpose: "find a stream's last position before a time"
      ) { statement in
        try statement.bind(stream, at: 1)
        try statement.bind(time, at: 2)
      }
    }
  }

  /// The smallest time in the log, or nil when the log is empty.
  public func earliestTime() throws -> Int64? {
    try query { connection in
      try connection.optionalInteger(
        "SELECT min(time_us) FROM events", purpose: "read the earliest time")
    }
  }

  /// The names of all streams, sorted by the bytes of their UTF-8 encoding.
  public func streams() throws -> [String] {
    try query { connection in
      try connection.withStatement(
        "SELECT DISTINCT stream FROM events ORDER BY stream",
        purpose: "list the streams"
      ) { statement in
        var names: [String] = []
        while try statement.step() {
          names.append(statement.text(at: 0))
        }
        return names
      }
    }
  }

  /// Recomputes the hash chain and checks positions 1…N without gaps and each
  /// stream's versions 1…n, streaming through the log once in position order.
  public func verify() throws -> VerifyReport {
    var verifier = EventChainVerifier()
    try scan(
      EventQuery(condition: " ORDER BY position", purpose: "read events to verify them"), row: Self.eventBytes(from:)
    ) { event in
      verifier.check(event)
      return true
    }
    return verifier.report
  }
}
