import EventLog

extension PostgresEventLog {
  /// Appends the batch on a guess, or else through ``append(expectedVersions:_:)``.
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
    return try appendRecords(events, expectedVersions: expectedVersions)
  }

  /// Appends the events `produce` hands over in one transaction that holds the log's advisory
  /// lock: a few inserted with the commit, more copied (`COPY` in binary) a chunk at a time.
  ///
  /// - Throws: ``EventLogError/versionConflict(stream:expected:actual:)``,
  ///   ``EventLogError/busy(path:)`` when another writer holds the log past the lock timeout,
  ///   ``EventLogError/unavailable(location:reason:)`` when the connection is lost,
  ///   ``EventLogError/readOnly(path:)``, or what `produce` throws; nothing is written then.
  public func append(
    expectedVersions: [String: Int64], _ produce: (EventAppender) throws -> Void
  ) throws -> AppendResult {
    // The last event and the expected streams' versions are read in the round-trip that takes
    // the log's lock, as text (bytes in hexadecimal).
    let streams = Array(expectedVersions.keys)
    return try lock.append {
      let quiet = quietAppends
      var known = knownVersions
      quietAppends = 0  // until this append has committed
      knownVersions = [:]  // (`known` is its only reference now: changed in place)
      var unchanged = false
      var read: (table: String?, versions: [String: Int64]) = (eventsTable, [:])
      let reads =
        lastEventAndVersions(streams) + (eventsTable == nil ? "; SELECT '\(schema).events'::regclass::oid" : "")
      let (appended, lastHash) = try write(reading: reads) { connection, results in
        let found = try Self.state(results[...], streams: streams)
        unchanged = lastSeen.map { found.position == $0.position && found.chain.lastHashEquals($0.hash) } ?? false
        if read.table == nil { read.table = results[2].text(0, 0) }
        read.versions = found.versions
        try StreamVersions.check(expectedVersions) { found.versions[$0] ?? -1 }
        return try stream(
          produce,
          through: PostgresBatchWriter(
            connection: connection, schema: schema, expectedVersions: expectedVersions, chain: found.chain,
            position: found.position))
      }
      lastSeen = (appended.lastPosition, lastHash)
      quietAppends = unchanged ? quiet + 1 : 0
      eventsTable = read.table
      if !unchanged { known.removeAll() }
      for (stream, version) in read.versions { known[stream] = version }
      remember(&known, appended)
      return appended
    }
  }

  /// Keeps `known`, the versions of streams before the append, with those the append wrote, as
  /// the versions at `lastSeen`, when they are not too many.
  private func remember(_ known: inout [String: Int64], _ appended: AppendResult) {
    for (stream, version) in appended.versions { known[stream] = version }
    knownVersions = known.count <= 65_536 ? known : [:]
  }

  /// Appends as ``append(expectedVersions:_:)`` does or, when no other writer came between this
  /// log's last appends (see `quietAppendsToGuess`), on the guess that the last event is still the
  /// one this log saw last (Docs/performance.md tells how the guess is checked).
  ///
  /// - Returns: nil, having written nothing, when another writer appended meanwhile.
  public func appendGuessingPosition(
    expectedVersions: [String: Int64], _ produce: (EventAppender) throws -> Void
  ) throws -> AppendResult? {
    try lock.append {
      // Streams named in ASCII only: the versions this log knows are kept by name, and Swift's
      // strings compare other names by canonical equivalence (`é` as one scalar or two), where
      // the database compares bytes.
      guard quietAppends >= quietAppendsToGuess, let last = lastSeen, let table = eventsTable,
        let chain = EventHashChain(lastHash: last.hash),
        expectedVersions.keys.allSatisfy({ $0.utf8.allSatisfy { $0 < 0x80 } })
      else {
        return try append(expectedVersions: expectedVersions, produce)
      }
      let quiet = quietAppends
      var known = knownVersions
      quietAppends = 0  // until this append has committed on its guess
      knownVersions = [:]  // (`known` is its only reference now: changed in place)
      try connection.reconnectIfLost()
      let streams = Array(expectedVersions.keys)
      var writer = PostgresBatchWriter(
        connection: connection, schema: schema, expectedVersions: expectedVersions, chain: chain,
        position: last.position)
      // What the keys of the events' positions and of their streams' versions do not check: that
      // the table is the one whose last event this log saw (its events are never changed), and
      // that each expected stream whose version is not known has the event of that version (a
      // stream expected at 0 has none: the key of its version 1 checks it). Division by zero
      // when not.
      let checks =
        ["'\(schema).events'::regclass::oid = \(table)"]
        + expectedVersions.filter { $0.value != 0 && known[$0.key] != $0.value }.map { stream, version in
          "(SELECT count(*) FROM \(schema).events WHERE stream = \(SQLValues.literal(stream.utf8)) AND version = \(version)) = 1"
        }
      writer.guess = (
        lock: "\(lockTimeout); \(lockLog), 1 / (\(checks.joined(separator: " AND ")))::int",
        open: { [self] in
          // The round-trip of an append that does not guess, and the guess checked.
          let results = try connection.executeAll(
            "\(begin); \(lockLog); \(lastEventAndVersions(streams))", purpose: "append to the log")
          let found = try Self.state(results.dropFirst(3), streams: streams)
          guard found.position == last.position, found.chain.lastHashEquals(last.hash) else { throw GuessFailed() }
          try StreamVersions.check(expectedVersions) { found.versions[$0] ?? -1 }
        }
      )
      do {
        let (appended, lastHash) = try stream(produce, through: writer)
        if connection.isInTransaction {
          try connection.execute("COMMIT", purpose: "commit the transaction to append to the log")
        }
        lastSeen = (appended.lastPosition, lastHash)
        quietAppends = quiet + 1
        quietAppendsToGuess = max(1, quietAppendsToGuess / 2)
        remember(&known, appended)
        return appended
      } catch is GuessFailed {
        connection.rollBack()
        quietAppendsToGuess = min(64, quietAppendsToGuess * 2)
        return nil
      } catch {
        connection.rollBack()
        throw error
      }
    }
  }

  /// Hands `produce` an appender whose events `writer` places and writes, and writes what is left;
  /// returns the result and the hash of the last event.
  private func stream(
    _ produce: (EventAppender) throws -> Void, through writer: PostgresBatchWriter
  ) throws -> (AppendResult, [UInt8]) {
    var writer = writer
    let first = writer.position + 1
    // The connection is this thread's again before the transaction ends, however it ends.
    defer { try? writer.waitForCopy() }
    try lock.producing {
      try produce(
        EventAppender(
          firstPosition: first,
          sink: { record in try EventRecordBytes.withBytes(of: record) { try writer.add($0) } },
          bytesSink: { event in
            try event.checkUTF8()
            try writer.add(event)
          }))
    }
    try writer.finish()
    return (
      AppendResult(firstPosition: first, lastPosition: writer.position, versions: writer.versions.finalVersions()),
      writer.lastHash
    )
  }

  /// The two statements that read the log's last event and the versions of `streams` (one row
  /// each, in their order: an indexed lookup per stream, one statement however many there are),
  /// their results as text (bytes in hexadecimal).
  private func lastEventAndVersions(_ streams: [String]) -> String {
    """
    SELECT position, encode(hash, 'hex') FROM \(schema).events ORDER BY position DESC LIMIT 1; \
    SELECT (SELECT version FROM \(schema).events WHERE stream = s.name ORDER BY version DESC LIMIT 1) \
    FROM unnest(ARRAY[\(streams.map { SQLValues.literal($0.utf8) }.joined(separator: ","))]::bytea[]) \
    WITH ORDINALITY AS s(name, n) ORDER BY n
    """
  }

  /// The log's last position, the chain after its last event and the versions of `streams` (-1
  /// for a version that is not a number), from the results of ``lastEventAndVersions(_:)``.
  private static func state(
    _ results: ArraySlice<PostgresResult>, streams: [String]
  ) throws -> (position: Int64, chain: EventHashChain, versions: [String: Int64]) {
    let last = results[results.startIndex]
    let position = last.rowCount == 0 ? 0 : Int64(last.text(0, 0)) ?? -1
    let hash = last.rowCount == 0 ? EventHashChain.genesis : SQLValues.bytes(hex: last.bytes(0, 1))
    guard let chain = hash.flatMap({ EventHashChain(lastHash: $0) }) else {
      throw EventLogError.corrupt(
        "the hash of the last event (position \(position)) is not 32 bytes; run verify to inspect the log")
    }
    let stored = results[results.startIndex + 1]
    let versions = Dictionary(
      uniqueKeysWithValues: streams.enumerated().map { row, stream in
        (stream, stored.isNull(row, 0) ? 0 : Int64(stored.text(row, 0)) ?? -1)
      })
    return (position, chain, versions)
  }

  /// Writes the outbox of the events up to the last one again, in several transactions: one that
  /// empties it and marks it as being filled, one per batch of messages, one that ends the mark.
  ///
  /// The mark is this rebuild's own (the id of the transaction that wrote it): a rebuild that
  /// another process began meanwhile replaced it with its own, and the outbox stays marked until
  /// that one ends.
  public func rebuildOutbox(_ produce: (_ through: Int64, _ sink: OutboxRebuild) throws -> Void) throws {
    let (through, mark) = try write { connection in
      let last = try Self.lastPosition(on: connection, schema: schema)
      try connection.query(
        "DELETE FROM \(schema).outbox WHERE position <= $1", [.int64(last)], purpose: "empty the outbox")
      try connection.execute("DELETE FROM \(schema).outbox_filling", purpose: "mark the outbox as being filled")
      let mark = try connection.query(
        "INSERT INTO \(schema).outbox_filling VALUES ($1) RETURNING xmin::text", [.int64(last)],
        purpose: "mark the outbox as being filled")
      return (last, mark.text(0, 0))
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
      _ = try connection.query(
        "DELETE FROM \(schema).outbox_filling WHERE xmin::text = $1", [.text(mark)],
        purpose: "mark the outbox as filled")
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
  /// The copy of the chunk before, while it runs.
  private var copying: Worker<Result<Void, any Error>>?
  private(set) var versions: StreamVersions
  /// The position of the last event placed.
  private(set) var position: Int64
  /// For an append on a guess, until its transaction begins: the statements that set the lock
  /// timeout and take the log's lock, and what begins the transaction and checks the guess in a
  /// round-trip of its own (throwing ``GuessFailed`` when the guess does not hold).
  var guess: (lock: String, open: () throws -> Void)?

  /// The hash of the last event placed.
  var lastHash: [UInt8] { chain.lastHash }

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
    // The expected versions were just checked: they are the stored ones.
    for (stream, version) in expectedVersions { stored[Array(stream.utf8)] = version }
  }

  /// Takes the next event; copies the chunk once it is full, on a thread of its own.
  mutating func add(_ event: EventRecordBytes) throws {
    if let guess, count == 16 {
      // More than one round-trip takes: the transaction begins now.
      try guess.open()
      self.guess = nil
    }
    count = chunk.add(event)
    if count == PostgresEventLog.chunkSize { try flush(inBackground: true) }
  }

  /// Waits for the copy of the chunk before, if one runs; rethrows what stopped it.
  mutating func waitForCopy() throws {
    guard let copying else { return }
    self.copying = nil
    try copying.join().get()
  }

  /// Writes the events left and, for a few (the most that an INSERT of literals takes), commits
  /// the transaction in the same round-trip; more are copied, and the caller commits.
  mutating func finish() throws {
    if let guess {
      let unplaced = self
      if count > 0, try streamsAreTheExpectedOnes(), try insertOnGuess(lock: guess.lock) { return }
      // Refused: the guess is checked, the transaction begun, and the events placed again.
      self = unplaced
      try guess.open()
      self.guess = nil
    }
    guard count > 0, count <= 16 else {
      try flush(inBackground: false)
      return try waitForCopy()
    }
    try waitForCopy()
    try loadStoredVersions()
    _ = try connection.executeAll(try placedInserts() + "; COMMIT", purpose: "insert the events")
  }

  /// Places the chunk's events (see ``place(into:_:)``) and returns the statements that insert
  /// them and their outbox messages.
  private mutating func placedInserts() throws -> String {
    var events = SQLValues()
    var outbox = SQLValues()
    try place(into: &events, &outbox)
    var sql = "INSERT INTO \(schema).events (position, stream, version, type, actor, time_us, data, hash) VALUES "
    sql += events.text
    if outbox.rowCount > 0 {
      sql += "; INSERT INTO \(schema).outbox (position, seq, recipient, data) VALUES " + outbox.text
    }
    return sql
  }

  /// Whether the chunk's streams are those whose versions are expected.
  private func streamsAreTheExpectedOnes() throws -> Bool {
    var streams: Set<[UInt8]> = []
    try chunk.forEach { event in streams.insert(Array(event.stream)) }
    return streams.count == expectedVersions.count && streams.allSatisfy { stored[$0] != nil }
  }

  /// Writes the chunk, a few events of an append on a guess, in one round-trip: one query, one
  /// transaction, that runs `lock` (which takes the log's lock and checks what the keys do not)
  /// and inserts the events and their outbox messages. Another writer's events refuse them: the
  /// key of their positions, or of their streams' versions.
  ///
  /// - Returns: Whether they were written; nothing was when the check or a key refused them.
  private mutating func insertOnGuess(lock: String) throws -> Bool {
    let sql = "\(lock); " + (try placedInserts())
    do {
      _ = try connection.executeAll(sql, purpose: "insert the events")
      return true
    } catch EventLogError.server(let state, _) where state == "22012" || state == "23505" {
      // division_by_zero, unique_violation: the query's transaction was rolled back.
      return false
    }
  }

  /// Copies the events taken so far: on a thread of its own when `inBackground` (the next
  /// chunk fills meanwhile; ``waitForCopy()`` waits for it), else on this one.
  mutating func flush(inBackground: Bool) throws {
    guard count > 0 else { return }
    try loadStoredVersions()
    var events = CopyRows()
    var outbox = CopyRows()
    try place(into: &events, &outbox)
    try waitForCopy()
    let copy = ChunkCopy(
      connection: connection, schema: schema, events: events.finished(),
      outbox: outbox.rowCount > 0 ? outbox.finished() : nil)
    if inBackground {
      copying = Worker(name: "PostgreSQL append copy") { Result { try copy.run() } }
    } else {
      try copy.run()
    }
  }

  /// Reads the stored version of each stream of the chunk met for the first time.
  private mutating func loadStoredVersions() throws {
    if !logWasEmpty {
      try waitForCopy()  // the connection is needed for the queries
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
  }

  /// Places the chunk's events after the log's last one (positions, versions, the hash chain)
  /// as rows of `events` and `outbox`, and empties the chunk.
  private mutating func place<Rows: AppendRows>(into events: inout Rows, _ outbox: inout Rows) throws {
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
    chunk.removeAll()
    count = 0
  }
}

/// What an append on a guess throws when the log's last event is not the one it guessed: it has
/// written nothing.
struct GuessFailed: Error {}

/// The copy of one chunk's events and outbox messages, which may run on a thread of its own:
/// the appending thread does not use the connection until the copy has ended.
private struct ChunkCopy: @unchecked Sendable {
  // @unchecked Sendable: the connection is used by one thread at a time, the joined worker's
  // thread until it ends.
  let connection: PostgresConnection
  let schema: String
  let events: [UInt8]
  let outbox: [UInt8]?

  func run() throws {
    try connection.copy(
      "COPY \(schema).events (position, stream, version, type, actor, time_us, data, hash) FROM STDIN (FORMAT binary)",
      data: events, purpose: "insert the events")
    if let outbox {
      try connection.copy(
        "COPY \(schema).outbox (position, seq, recipient, data) FROM STDIN (FORMAT binary)", data: outbox,
        purpose: "insert the outbox messages")
    }
  }
}

/// Rows of `events` and `outbox` as an append writes them, field by field.
protocol AppendRows {
  /// Begins a row of `fields` fields.
  mutating func startRow(fields: Int16)
  /// An `int8` field.
  mutating func field(_ value: Int64)
  /// A `bytea` field.
  mutating func field<Bytes: Collection<UInt8>>(_ value: Bytes)
  /// Ends the row.
  mutating func endRow()
  /// The rows so far.
  var rowCount: Int { get }
}

extension AppendRows {
  /// An `events` row.
  mutating func eventRow(position: Int64, version: Int64, _ event: EventRecordBytes, hash: UnsafeRawBufferPointer) {
    startRow(fields: 8)
    field(position)
    field(event.stream)
    field(version)
    field(event.type)
    field(event.actor)
    field(event.time)
    field(event.data)
    field(hash)
    endRow()
  }

  /// An `outbox` row.
  mutating func outboxRow<Bytes: Collection<UInt8>>(position: Int64, seq: Int64, recipient: Bytes, data: Bytes) {
    startRow(fields: 4)
    field(position)
    field(seq)
    field(recipient)
    field(data)
    endRow()
  }
}

/// Rows as the list of an SQL `VALUES`, bytes as `decode('…', 'hex')` (whatever
/// `standard_conforming_strings` says): a few events sent with their commit in one round-trip.
struct SQLValues: AppendRows {
  private var bytes: [UInt8] = []
  private(set) var rowCount = 0

  /// The list, `(…), (…)`.
  var text: String { String(decoding: bytes, as: UTF8.self) }

  private static let digits = Array("0123456789abcdef".utf8)

  /// `value` as a `bytea` literal.
  static func literal<Bytes: Collection<UInt8>>(_ value: Bytes) -> String {
    var values = SQLValues()
    values.field(value)
    return String(decoding: values.bytes.dropLast(), as: UTF8.self)
  }

  /// The bytes written in hexadecimal by `text`, or nil when it is not that.
  static func bytes(hex text: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
    func value(_ digit: UInt8) -> UInt8? { digits.firstIndex(of: digit).map { UInt8($0) } }
    guard text.count.isMultiple(of: 2) else { return nil }
    var result: [UInt8] = []
    result.reserveCapacity(text.count / 2)
    for index in stride(from: 0, to: text.count, by: 2) {
      guard let high = value(text[index]), let low = value(text[index + 1]) else { return nil }
      result.append(high << 4 | low)
    }
    return result
  }

  mutating func startRow(fields: Int16) {
    bytes.append(contentsOf: (rowCount == 0 ? "(" : ", (").utf8)
  }

  /// Each field is followed by a comma, which ``endRow()`` turns into `)` after the last.
  mutating func field(_ value: Int64) {
    bytes.append(contentsOf: String(value).utf8)
    bytes.append(UInt8(ascii: ","))
  }

  mutating func field<Bytes: Collection<UInt8>>(_ value: Bytes) {
    bytes.append(contentsOf: "decode('".utf8)
    for byte in value {
      bytes.append(Self.digits[Int(byte >> 4)])
      bytes.append(Self.digits[Int(byte & 15)])
    }
    bytes.append(contentsOf: "', 'hex'),".utf8)
  }

  mutating func endRow() {
    bytes[bytes.count - 1] = UInt8(ascii: ")")
    rowCount += 1
  }
}

/// Rows in PostgreSQL's binary `COPY` format: a header, each row as its field count and each
/// field's length and bytes (`int8` big-endian), and a trailer.
struct CopyRows: AppendRows {
  private var bytes: [UInt8] = Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00] + [UInt8](repeating: 0, count: 8)
  private(set) var rowCount = 0

  mutating func startRow(fields: Int16) {
    bytes.appendBigEndian(fields)
  }

  mutating func field(_ value: Int64) {
    bytes.appendBigEndian(Int32(8))
    bytes.appendBigEndian(value)
  }

  // Inlined into each row, as each row's own fields were: else the hash goes through a call.
  @inline(__always)
  mutating func field<Bytes: Collection<UInt8>>(_ value: Bytes) {
    bytes.appendBigEndian(Int32(value.count))
    bytes.append(contentsOf: value)
  }

  mutating func endRow() {
    rowCount += 1
  }

  /// The rows with the trailer.
  func finished() -> [UInt8] {
    var all = bytes
    all.appendBigEndian(Int16(-1))
    return all
  }
}
