extension SQLiteEventLog {
  /// Lends `body` each event that `condition` selects, inside a read transaction, until the rows
  /// end or `body` returns false; of `version`, `time` and `hash` only the `columns` asked for
  /// are read (each costs SQLite a column step and the caller a call).
  private func scan(
    _ condition: String, purpose: String, columns: StoredEventBytes.Columns = .all,
    bind: (SQLiteStatement) throws -> Void = { _ in }, _ body: (StoredEventBytes) throws -> Bool
  ) throws {
    let (select, version, time, hash) = columns.selectList
    try read { connection in
      try connection.withStatement(select + " FROM events" + condition, purpose: purpose) { statement in
        try bind(statement)
        while try statement.step() {
          let event = StoredEventBytes(
            position: statement.int64(at: 0),
            version: version.map { statement.int64(at: Int32($0)) } ?? 0,
            time: time.map { statement.int64(at: Int32($0)) } ?? 0,
            stream: statement.textBytes(at: 1),
            type: statement.textBytes(at: 2),
            actor: statement.textBytes(at: 3),
            data: statement.textBytes(at: 4),
            hash: hash.map { statement.blobBytes(at: Int32($0)) } ?? UnsafeBufferPointer(start: nil, count: 0))
          guard try body(event) else { return }
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

  /// Streams events by position as bytes, reading of `version`, `time` and `hash` only the
  /// `columns` asked for.
  public func forEachEventBytes(
    from: Int64, through: Int64?, columns: StoredEventBytes.Columns,
    _ body: (StoredEventBytes) throws -> Bool
  ) throws {
    try scan(
      " WHERE position BETWEEN ?1 AND ?2 ORDER BY position", purpose: "read events by position", columns: columns,
      bind: { statement in
        try statement.bind(from, at: 1)
        try statement.bind(through ?? Int64.max, at: 2)
      }, body)
  }

  /// Streams one stream's events, lending each row's columns as bytes.
  public func forEachEventBytes(
    inStream stream: String, throughPosition: Int64?, _ body: (StoredEventBytes) throws -> Bool
  ) throws {
    try scan(
      " WHERE stream = ?1 AND position <= ?2 ORDER BY version", purpose: "read a stream's events",
      bind: { statement in
        try statement.bind(stream, at: 1)
        try statement.bind(throughPosition ?? Int64.max, at: 2)
      }, body)
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

  /// The highest position of `stream` before its first event stamped after
  /// `time`, or nil (see the protocol).
  public func lastPosition(inStream stream: String, beforeFirstAfter time: Int64) throws -> Int64? {
    try query { connection in
      try connection.optionalInteger(
        """
        SELECT max(position) FROM events WHERE stream = ?1 AND position < coalesce(
          (SELECT min(position) FROM events WHERE stream = ?1 AND time_us > ?2), 9223372036854775807)
        """, purpose: "find a stream's last position before a time"
      ) { statement in
        try statement.bind(stream, at: 1)
        try statement.bind(time, at: 2)
      }
    }
  }

  /// The smallest time in the log, or nil when the log is empty.
  public func earliestTime() throws -> Int64? {
    try query { connection in
      try connection.optionalInteger("SELECT min(time_us) FROM events", purpose: "read the earliest time")
    }
  }

  /// The names of all streams, sorted by the bytes of their UTF-8 encoding.
  public func streams() throws -> [String] {
    try query { connection in
      try connection.withStatement("SELECT DISTINCT stream FROM events ORDER BY stream", purpose: "list the streams") {
        statement in
        var names: [String] = []
        while try statement.step() {
          names.append(statement.text(at: 0))
        }
        return names
      }
    }
  }

  /// Recomputes the hash chain and checks the positions and versions, reading the log once.
  public func verify() throws -> VerifyReport {
    var verifier = EventChainVerifier()
    try scan(" ORDER BY position", purpose: "read events to verify them") { event in
      verifier.check(event)
      return true
    }
    return verifier.report
  }
}
