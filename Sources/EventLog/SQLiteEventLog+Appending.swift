extension SQLiteEventLog {
  private static let insertSQL = """
    INSERT INTO events (position, stream, version, type, actor, time_us, data, hash)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
    """

  /// Appends the batch atomically in one transaction.
  ///
  /// `expectedVersions[stream]` is the version the caller based its decision
  /// on (0 = the stream must not exist yet). Every entry is checked, also for
  /// streams without events in the batch; a stream of the batch missing from
  /// the dictionary is not checked. On any mismatch this throws
  /// ``EventLogError/versionConflict(stream:expected:actual:)`` and writes
  /// nothing. Each event gets position = last + 1 and version = its stream's
  /// last version + 1.
  ///
  /// The batch is written with `BEGIN IMMEDIATE`, one prepared insert reused
  /// for every row, and text bound without copying, so batches of millions
  /// of events are fast.
  ///
  /// - Throws: ``EventLogError/versionConflict(stream:expected:actual:)``,
  ///   ``EventLogError/busy(path:)`` when another connection holds the write
  ///   lock past the busy timeout, ``EventLogError/readOnly(path:)``.
  public func append(_ events: [EventRecord], expectedVersions: [String: Int64]) throws
    -> AppendResult
  {
    try withLock {
      guard !events.isEmpty else {
        // Nothing to write: check the expectations in a read transaction,
        // which also works on a read-only log.
        return try read { connection in
          try Self.checkExpectations(expectedVersions, on: connection)
          let last = try connection.integer(
            "SELECT max(position) FROM events", purpose: "read the last position")
          return AppendResult(firstPosition: last + 1, lastPosition: last, versions: [:])
        }
      }
      return try write { connection in
        try Self.checkExpectations(expectedVersions, on: connection)
        return try Self.withLargeCache(on: connection, if: events.count >= Self.largeBatch) {
          try Self.insert(events, expectedVersions: expectedVersions, on: connection)
        }
      }
    }
  }

  /// From this many events on, an append raises SQLite's page cache.
  private static let largeBatch = 10_000

  /// The page cache size, in KiB, used while appending a large batch.
  ///
  /// Rows of many streams interleaved scatter the inserts over the whole
  /// `(stream, version)` index; with SQLite's default 2 MiB cache most of
  /// them then miss the cache, which made importing 1,000,000 events of 1,000
  /// interleaved streams about twice as slow. The cache only grows as pages
  /// are touched and is shrunk back after the batch.
  private static let largeBatchCacheKiB = 65_536

  /// Runs `body` with a larger page cache when `condition` holds, restoring
  /// the connection's cache size afterwards.
  private static func withLargeCache<Result>(
    on connection: SQLiteConnection,
    if condition: Bool,
    _ body: () throws -> Result
  ) throws -> Result {
    guard condition else { return try body() }
    let previous = try connection.integer("PRAGMA cache_size", purpose: "read the cache size")
    try connection.execute(
      "PRAGMA cache_size = -\(largeBatchCacheKiB)", purpose: "raise the cache size for a large batch")
    defer {
      try? connection.execute("PRAGMA cache_size = \(previous)", purpose: "restore the cache size")
    }
    return try body()
  }

  /// Throws a version conflict for the first stream (in byte order) whose
  /// current version differs from the expected one.
  private static func checkExpectations(
    _ expected: [String: Int64], on connection: SQLiteConnection
  ) throws {
    for stream in Array(expected.keys).sortedByUTF8() {
      let expectedVersion = expected[stream] ?? 0
      let actual = try currentVersion(of: stream, on: connection)
      if actual != expectedVersion {
        throw EventLogError.versionConflict(
          stream: stream, expected: expectedVersion, actual: actual)
      }
    }
  }

  /// Inserts the batch inside the open write transaction.
  private static func insert(
    _ events: [EventRecord],
    expectedVersions: [String: Int64],
    on connection: SQLiteConnection
  ) throws -> AppendResult {
    let (lastPosition, lastHash) = try connection.withStatement(
      "SELECT position, hash FROM events ORDER BY position DESC LIMIT 1",
      purpose: "read the last event"
    ) { statement in
      try statement.step()
        ? (statement.int64(at: 0), statement.blob(at: 1)) : (0, EventHashChain.genesis)
    }
    guard var chain = EventHashChain(lastHash: lastHash) else {
      throw EventLogError.corrupt(
        "the hash of the last event (position \(lastPosition)) is not 32 bytes; "
          + "run verify to inspect the log"
      )
    }
    var versions = StreamVersions()
    var position = lastPosition
    try connection.withStatement(insertSQL, purpose: "insert an event") { insert in
      for event in events {
        position += 1
        let version = try versions.next(for: event.stream) { stream in
          try currentVersion(of: stream, on: connection)
        }
        chain.append(
          position: position,
          stream: event.stream,
          version: version,
          type: event.type,
          actor: event.actor,
          time: event.time,
          data: event.data
        )
        do {
          try insertRow(event, position: position, version: version, hash: chain, into: insert)
        } catch let error as EventLogError where error.isUniquenessViolation {
          let actual = try currentVersion(of: event.stream, on: connection)
          let expected = expectedVersions[event.stream] ?? version - 1
          throw EventLogError.versionConflict(
            stream: event.stream, expected: expected, actual: actual)
        }
      }
    }
    return AppendResult(
      firstPosition: lastPosition + 1,
      lastPosition: position,
      versions: versions.finalVersions()
    )
  }

  /// Binds one row and steps the insert, without copying any text: the
  /// strings' UTF-8 storage and the chain's last hash stay alive until the
  /// step has finished.
  @inline(__always)
  private static func insertRow(
    _ event: EventRecord,
    position: Int64,
    version: Int64,
    hash chain: EventHashChain,
    into insert: SQLiteStatement
  ) throws {
    var stream = event.stream
    var type = event.type
    var actor = event.actor
    var data = event.data
    try stream.withUTF8 { stream in
      try type.withUTF8 { type in
        try actor.withUTF8 { actor in
          try data.withUTF8 { data in
            try chain.withLastHash { hash in
              try insert.bind(position, at: 1)
              try insert.bindUnretained(text: stream, at: 2)
              try insert.bind(version, at: 3)
              try insert.bindUnretained(text: type, at: 4)
              try insert.bindUnretained(text: actor, at: 5)
              try insert.bind(event.time, at: 6)
              try insert.bindUnretained(text: data, at: 7)
              try insert.bindUnretained(blob: hash, at: 8)
              _ = try insert.step()
              insert.rewind()
            }
          }
        }
      }
    }
  }
}
