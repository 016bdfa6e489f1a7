import EventLog

extension PostgresEventLog {
  /// Appends the batch atomically in one transaction, as
  /// ``EventLogWriter/append(_:expectedVersions:)`` describes, through
  /// ``append(expectedVersions:_:)``.
  public func append(_ events: [EventRecord], expectedVersions: [String: Int64]) throws -> AppendResult {
    guard !events.isEmpty else {
      // Nothing to write: check the expectations in a read transaction, which also works on a
      // read-only log.
      return try read { connection in
        try StreamVersions.check(expectedVersions) {
          try Self.currentVersion(of: Array($0.utf8), on: connection, schema: self.schema)
        }
        let last = try Self.lastPosition(on: connection, schema: self.schema)
        return AppendResult(firstPosition: last + 1, lastPosition: last, versions: [:])
      }
    }
    return try append(expectedVersions: expectedVersions) { appender in
      for event in events { try appender.append(event) }
    }
  }

  /// Appends the events `produce` hands over, atomically in one transaction that holds the log's
  /// advisory lock from before the expectations are checked until the commit; the events are
  /// copied to the server (`COPY … FROM STDIN` in binary) a chunk at a time while they are
  /// produced.
  ///
  /// - Throws: ``EventLogError/versionConflict(stream:expected:actual:)``,
  ///   ``EventLogError/busy(path:)`` when another writer holds the log past the lock timeout,
  ///   ``EventLogError/unavailable(location:reason:)`` when the connection is lost,
  ///   ``EventLogError/readOnly(path:)``, or what `produce` throws; nothing is written then.
  public func append(
    expectedVersions: [String: Int64], _ produce: (EventAppender) throws -> Void
  ) throws -> AppendResult {
    try write { connection in
      let last = try connection.query(
        "SELECT position, hash FROM \(schema).events ORDER BY position DESC LIMIT 1", purpose: "read the last event")
      let (lastPosition, lastHash) =
        last.rowCount == 0 ? (0, EventHashChain.genesis) : (last.int64(0, 0), Array(last.bytes(0, 1)))
      guard let chain = EventHashChain(lastHash: lastHash) else {
        throw EventLogError.corrupt(
          "the hash of the last event (position \(lastPosition)) is not 32 bytes; run verify to inspect the log")
      }
      // In an empty log every stream is at version 0: no need to ask for each.
      try StreamVersions.check(expectedVersions) { stream in
        lastPosition == 0 ? 0 : try Self.currentVersion(of: Array(stream.utf8), on: connection, schema: schema)
      }
      var writer = PostgresBatchWriter(
        connection: connection, schema: schema, expectedVersions: expectedVersions, chain: chain,
        position: lastPosition)
      try lock.producing {
        try produce(
          EventAppender(
            firstPosition: lastPosition + 1,
            sink: { record in try EventRecordBytes.withBytes(of: record) { try writer.add($0) } },
            bytesSink: { event in
              try event.checkUTF8()
              try writer.add(event)
            }))
      }
      try writer.flush()
      return AppendResult(
        firstPosition: lastPosition + 1, lastPosition: writer.position, versions: writer.versions.finalVersions())
    }
  }

  /// Writes the outbox of the events up to the last one again, in several transactions: one that
  /// empties it and marks it as being filled, one per batch of messages, one that ends the mark.
  public func rebuildOutbox(_ produce: (_ through: Int64, _ sink: OutboxRebuild) throws -> Void) throws {
    let through = try write { connection in
      let last = try Self.lastPosition(on: connection, schema: schema)
      try connection.query(
        "DELETE FROM \(schema).outbox WHERE position <= $1", [.int64(last)], purpose: "empty the outbox")
      try connection.execute("DELETE FROM \(schema).outbox_filling", purpose: "mark the outbox as being filled")
      try connection.query(
        "INSERT INTO \(schema).outbox_filling VALUES ($1)", [.int64(last)],
        purpose: "mark the outbox as being filled")
      return last
    }
    let sink = OutboxRebuild { messages in
      try self.write { connection in
        var rows = CopyRows()
        for message in messages {
          rows.outboxRow(
            position: message.cursor.position, seq: Int64(message.cursor.index),
            recipient: Array(message.recipient.utf8),
            data: Array(message.data.utf8))
        }
        try connection.query(
          "CREATE TEMPORARY TABLE partnersync_rebuilt (LIKE \(self.schema).outbox) ON COMMIT DROP",
          purpose: "stage the rebuilt outbox")
        try connection.copy(
          "COPY partnersync_rebuilt (position, seq, recipient, data) FROM STDIN (FORMAT binary)", data: rows.finished(),
          purpose: "stage the rebuilt outbox")
        try connection.execute(
          """
          INSERT INTO \(self.schema).outbox SELECT * FROM partnersync_rebuilt
          ON CONFLICT (position, seq) DO UPDATE SET recipient = excluded.recipient, data = excluded.data
          """, purpose: "fill the outbox")
      }
    }
    try produce(through, sink)
    try sink.flush()
    try write { connection in
      try connection.execute("DELETE FROM \(schema).outbox_filling", purpose: "mark the outbox as filled")
    }
  }
}

/// Places the events of one append after the log's last event (positions, versions, the hash
/// chain) and copies them, a chunk at a time, inside the open write transaction.
struct PostgresBatchWriter {
  private let connection: PostgresConnection
  private let schema: String
  private var chunk = RecordChunk()
  private var count = 0
  /// The stored versions of the streams met so far, by their bytes (read before each chunk is
  /// copied: no query can run while a copy does).
  private var stored: [[UInt8]: Int64] = [:]
  private let expectedVersions: [String: Int64]
  private let logWasEmpty: Bool
  private var chain: EventHashChain
  private(set) var versions: StreamVersions
  /// The position of the last event placed.
  private(set) var position: Int64

  init(
    connection: PostgresConnection, schema: String, expectedVersions: [String: Int64], chain: EventHashChain,
    position: Int64
  ) {
    self.connection = connection
    self.schema = schema
    self.expectedVersions = expectedVersions
    self.chain = chain
    self.position = position
    logWasEmpty = position == 0
    versions = StreamVersions(known: expectedVersions)
  }

  /// Takes the next event; copies the chunk once it is full.
  mutating func add(_ event: EventRecordBytes) throws {
    count = chunk.add(event)
    if count == PostgresEventLog.chunkSize { try flush() }
  }

  /// Copies the events taken so far.
  mutating func flush() throws {
    guard count > 0 else { return }
    if !logWasEmpty {
      // Each stream's stored version, once, before the copy.
      var missing: [[UInt8]] = []
      try chunk.forEach { event in
        let name = Array(event.stream)
        if stored[name] == nil {
          stored[name] = -1
          missing.append(name)
        }
      }
      for name in missing {
        stored[name] = try PostgresEventLog.currentVersion(of: name, on: connection, schema: schema)
      }
    }
    var events = CopyRows()
    var outbox = CopyRows()
    let known = stored
    try chunk.forEach { event in
      position += 1
      let version = versions.next(for: event.stream) { stream in known[Array(stream.utf8)] ?? 0 }
      chain.append(position: position, version: version, event)
      chain.withLastHash { events.eventRow(position: position, version: version, event, hash: $0) }
      var index: Int64 = 0
      try OutboxFrames.forEach(in: event.outbox) { recipient, data in
        outbox.outboxRow(position: position, seq: index, recipient: recipient, data: data)
        index += 1
      }
    }
    try connection.copy(
      "COPY \(schema).events (position, stream, version, type, actor, time_us, data, hash) FROM STDIN (FORMAT binary)",
      data: events.finished(), purpose: "insert the events")
    if outbox.rowCount > 0 {
      try connection.copy(
        "COPY \(schema).outbox (position, seq, recipient, data) FROM STDIN (FORMAT binary)", data: outbox.finished(),
        purpose: "insert the outbox messages")
    }
    chunk.removeAll()
    count = 0
  }
}

/// Rows in PostgreSQL's binary `COPY` format: a header, each row as its field count and each
/// field's length and bytes (`int8` big-endian), and a trailer.
struct CopyRows {
  private var bytes: [UInt8] = Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00] + [UInt8](repeating: 0, count: 8)
  private(set) var rowCount = 0

  private mutating func field(_ value: Int64) {
    bytes.appendBigEndian(Int32(8))
    bytes.appendBigEndian(value)
  }

  private mutating func field<Bytes: Collection<UInt8>>(_ value: Bytes) {
    bytes.appendBigEndian(Int32(value.count))
    bytes.append(contentsOf: value)
  }

  /// An `events` row.
  mutating func eventRow(position: Int64, version: Int64, _ event: EventRecordBytes, hash: UnsafeRawBufferPointer) {
    bytes.appendBigEndian(Int16(8))
    field(position)
    field(event.stream)
    field(version)
    field(event.type)
    field(event.actor)
    field(event.time)
    field(event.data)
    field(hash)
    rowCount += 1
  }

  /// An `outbox` row.
  mutating func outboxRow<Bytes: Collection<UInt8>>(position: Int64, seq: Int64, recipient: Bytes, data: Bytes) {
    bytes.appendBigEndian(Int16(4))
    field(position)
    field(seq)
    field(recipient)
    field(data)
    rowCount += 1
  }

  /// The rows with the trailer.
  func finished() -> [UInt8] {
    var all = bytes
    all.appendBigEndian(Int16(-1))
    return all
  }
}
