import EventLog

extension PostgresEventLog {
  /// The position of the last event, or 0 when the log is empty.
  public func lastPosition() throws -> Int64 {
    try read(snapshot: false) { try Self.lastPosition(on: $0, schema: schema) }
  }

  static func lastPosition(on connection: PostgresConnection, schema: String) throws -> Int64 {
    try connection.optionalInteger(
      "SELECT position FROM \(schema).events ORDER BY position DESC LIMIT 1", purpose: "read the last position") ?? 0
  }

  /// The version of the last event of `stream`, or 0 when the stream has no events.
  public func version(of stream: String) throws -> Int64 {
    try read(snapshot: false) { try Self.currentVersion(of: Array(stream.utf8), on: $0, schema: schema) }
  }

  /// The version of the last event of the stream named by `stream`'s bytes, as the connection
  /// sees it now.
  static func currentVersion(of stream: [UInt8], on connection: PostgresConnection, schema: String) throws -> Int64 {
    try connection.optionalInteger(
      "SELECT version FROM \(schema).events WHERE stream = $1 ORDER BY version DESC LIMIT 1", [.bytes(stream)],
      purpose: "read a stream's version") ?? 0
  }

  /// Streams events by position as bytes, reading of `version`, `time` and `hash` only the
  /// `columns` asked for.
  public func forEachEventBytes(
    from: Int64, through: Int64?, columns: StoredEventBytes.Columns, _ body: (StoredEventBytes) throws -> Bool
  ) throws {
    try scan(
      "WHERE position BETWEEN $1 AND $2 ORDER BY position", [.int64(from), .int64(through ?? Int64.max)],
      purpose: "read events by position", columns: columns, body)
  }

  /// Streams one stream's events, lending each row's columns as bytes.
  public func forEachEventBytes(
    inStream stream: String, throughPosition: Int64?, _ body: (StoredEventBytes) throws -> Bool
  ) throws {
    try scan(
      "WHERE stream = $1 AND position <= $2 ORDER BY version", [.string(stream), .int64(throughPosition ?? Int64.max)],
      purpose: "read a stream's events", body)
  }

  /// The last position of each of `streams` at or before `position`: one statement (an indexed
  /// lookup per stream), one round-trip.
  public func lastPositions(ofStreams streams: [String], through position: Int64) throws -> [Int64?] {
    guard !streams.isEmpty else { return [] }
    return try read(snapshot: false) { connection in
      let result = try connection.query(
        """
        SELECT (SELECT position FROM \(schema).events WHERE stream = s.name AND position <= $2
                ORDER BY version DESC LIMIT 1)
        FROM unnest($1::bytea[]) WITH ORDINALITY AS s(name, n) ORDER BY n
        """, [.byteArrays(streams.map { Array($0.utf8) }), .int64(position)], purpose: "read streams' last events")
      return (0..<result.rowCount).map { result.isNull($0, 0) ? nil : result.int64($0, 0) }
    }
  }

  /// The highest position of `stream` before its first event stamped after `time`, or nil (see
  /// the protocol).
  public func lastPosition(inStream stream: String, beforeFirstAfter time: Int64) throws -> Int64? {
    try read(snapshot: false) { connection in
      try connection.optionalInteger(
        """
        SELECT max(position) FROM \(schema).events WHERE stream = $1 AND position < coalesce(
          (SELECT min(position) FROM \(schema).events WHERE stream = $1 AND time_us > $2), 9223372036854775807)
        """, [.string(stream), .int64(time)], purpose: "find a stream's last position before a time")
    }
  }

  /// The smallest time in the log, or nil when the log is empty.
  public func earliestTime() throws -> Int64? {
    try read(snapshot: false) { connection in
      try connection.optionalInteger("SELECT min(time_us) FROM \(schema).events", purpose: "read the earliest time")
    }
  }

  /// The names of all streams, sorted by the bytes of their UTF-8 encoding.
  public func streams() throws -> [String] {
    try read(snapshot: false) { connection in
      let result = try connection.query(
        "SELECT DISTINCT stream FROM \(schema).events ORDER BY stream", purpose: "list the streams")
      return (0..<result.rowCount).map { result.text($0, 0) }
    }
  }

  /// Streams the outbox's messages after `cursor` in cursor order (only `recipient`'s when
  /// given), a page at a time through the primary key or the `outbox_by_recipient` index: 128
  /// rows first (a caller's page is usually about 100), four times as many each time after, up to
  /// 4,096.
  public func forEachOutboxMessage(
    after cursor: OutboxCursor, recipient: String?, _ body: (OutboxMessage) throws -> Bool
  ) throws {
    var after = cursor
    var pageSize = 128
    while true {
      var parameters: [PostgresParameter] = [.int64(after.position), .int64(Int64(after.index))]
      if let recipient { parameters.append(.string(recipient)) }
      let page = try read(snapshot: false) { connection in
        try connection.query(
          "SELECT position, seq, recipient, data FROM \(schema).outbox WHERE "
            + (recipient == nil ? "" : "recipient = $3 AND ")
            + "(position, seq) > ($1, $2) ORDER BY position, seq LIMIT \(pageSize)", parameters,
          purpose: "read the outbox")
      }
      for row in 0..<page.rowCount {
        let message = OutboxMessage(
          cursor: OutboxCursor(position: page.int64(row, 0), index: Int(page.int64(row, 1))),
          recipient: page.text(row, 2), data: page.text(row, 3))
        guard try body(message) else { return }
        after = message.cursor
      }
      if page.rowCount < pageSize { return }
      pageSize = min(pageSize * 4, 4096)
    }
  }

  /// Whether no fill or rebuild of the outbox is pending.
  public func outboxIsFilled() throws -> Bool {
    try read(snapshot: false) { connection in
      try connection.optionalInteger(
        "SELECT count(*) FROM \(schema).outbox_filling", purpose: "read the outbox's state") == 0
    }
  }
}
