extension SQLiteEventLog {
  /// Appends the batch through ``append(expectedVersions:_:)``.
  public func append(_ events: [EventRecord], expectedVersions: [String: Int64]) throws -> AppendResult {
    guard !events.isEmpty else {
      // Nothing to write: check the expectations in a read transaction,
      // which also works on a read-only log.
      return try read { connection in
        try Self.checkExpectations(expectedVersions, on: connection)
        let last = try connection.integer("SELECT max(position) FROM events", purpose: "read the last position")
        return AppendResult(firstPosition: last + 1, lastPosition: last, versions: [:])
      }
    }
    return try appendRecords(events, expectedVersions: expectedVersions)
  }

  /// Appends the events `produce` hands over, atomically in one transaction (`BEGIN
  /// IMMEDIATE`, taken even when `produce` appends nothing), while they are produced (a large
  /// batch is written on a second thread meanwhile, see `AppendPipeline`).
  ///
  /// - Throws: ``EventLogError/versionConflict(stream:expected:actual:)``,
  ///   ``EventLogError/busy(path:)`` when another connection holds the write lock past the busy
  ///   timeout, ``EventLogError/readOnly(path:)``, or what `produce` throws; nothing is written then.
  public func append(
    expectedVersions: [String: Int64], _ produce: (EventAppender) throws -> Void
  ) throws -> AppendResult {
    let appended = try write { connection in
      try Self.checkExpectations(expectedVersions, on: connection)
      let pipeline = AppendPipeline(writer: try BatchWriter(connection: connection, expectedVersions: expectedVersions))
      defer { pipeline.writer.close() }
      do {
        try lock.producing {
          try produce(
            EventAppender(
              firstPosition: pipeline.writer.firstPosition,
              sink: { record in try EventRecordBytes.withBytes(of: record) { try pipeline.add($0) } },
              bytesSink: { event in
                try event.checkUTF8()
                try pipeline.add(event)
              }))
        }
        return (try pipeline.finish(), pipeline.writer.progress.chain.lastHash)
      } catch {
        pipeline.cancel()
        throw error
      }
    } committed: { appended in
      connection.lastAppended = (appended.0.lastPosition, appended.1, connection.dataVersion)
    }
    return appended.0
  }

  /// Throws a version conflict for the first stream (in byte order) whose
  /// current version differs from the expected one.
  static func checkExpectations(_ expected: [String: Int64], on connection: SQLiteConnection) throws {
    // In an empty log every stream is at version 0: no need to ask for each (an import into a
    // new log names thousands).
    let empty =
      try expected.count > 1
      && connection.integer("SELECT max(position) FROM events", purpose: "read the last position") == 0
    try StreamVersions.check(expected) { stream in
      empty ? 0 : try currentVersion(of: stream, on: connection)
    }
  }
}

/// Places the events of one append after the log's last event (positions, versions, the hash
/// chain) and inserts them, inside the open write transaction, with one prepared statement.
struct BatchWriter: @unchecked Sendable {
  // @unchecked Sendable: moved to the pipeline's writer thread, which alone uses it (and the
  // connection) until the appending thread, which holds the log's lock, has joined it.

  /// The page cache size, in KiB, used while appending a large batch: rows of many streams
  /// interleaved scatter the inserts over the whole `(stream, version)` index, and with SQLite's
  /// default 2 MiB cache importing 1,000,000 events of 1,000 interleaved streams took about twice
  /// as long. The cache only grows as pages are touched and is shrunk back after the batch.
  private static let largeBatchCacheKiB = 65_536

  private let connection: SQLiteConnection
  private let insert: SQLiteStatement
  private let insertMessage: SQLiteStatement
  private let expectedVersions: [String: Int64]
  private var previousCacheSize: Int64?
  /// Where the batch is.
  var progress: Progress

  /// Where the batch is: what the writer thread hands back (nothing of the connection, which
  /// then closes as soon as the log is let go).
  struct Progress: Sendable {
    var versions: StreamVersions
    var chain: EventHashChain
    var position: Int64
  }

  /// The position of the batch's first event.
  let firstPosition: Int64

  /// Continues after the last event of the log that `connection` sees, whose streams' versions
  /// are `expectedVersions` (just checked).
  init(connection: SQLiteConnection, expectedVersions: [String: Int64]) throws {
    // The last event is the one this connection appended last, unless the file changed since.
    let (lastPosition, lastHash) =
      if let known = connection.lastAppended, known.dataVersion == connection.dataVersion {
        (known.position, known.hash)
      } else {
        try connection.withStatement(
          "SELECT position, hash FROM events ORDER BY position DESC LIMIT 1",
          purpose: "read the last event"
        ) { statement in
          try statement.step()
            ? (statement.int64(at: 0), Array(statement.blobBytes(at: 1))) : (0, EventHashChain.genesis)
        }
      }
    guard let chain = EventHashChain(lastHash: lastHash) else {
      throw EventLogError.corrupt(
        "the hash of the last event (position \(lastPosition)) is not 32 bytes; run verify to inspect the log")
    }
    self.connection = connection
    self.expectedVersions = expectedVersions
    progress = Progress(versions: StreamVersions(known: expectedVersions), chain: chain, position: lastPosition)
    firstPosition = lastPosition + 1
    insert = try connection.checkOut(
      """
      INSERT INTO events (position, stream, version, type, actor, time_us, data, hash)
      VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
      """, purpose: "insert an event")
    insertMessage = try connection.checkOut(
      "INSERT INTO outbox (position, seq, recipient, data) VALUES (?1, ?2, ?3, ?4)",
      purpose: "insert an outbox message")
  }

  /// Gives the insert back to the connection and restores its cache size.
  func close() {
    connection.checkIn(insert)
    connection.checkIn(insertMessage)
    if let previousCacheSize {
      try? connection.execute("PRAGMA cache_size = \(previousCacheSize)", purpose: "restore the cache size")
    }
  }

  /// Raises the page cache for the rest of a large batch.
  mutating func prepareForLargeBatch() throws {
    guard previousCacheSize == nil else { return }
    previousCacheSize = try connection.integer("PRAGMA cache_size", purpose: "read the cache size")
    try connection.execute(
      "PRAGMA cache_size = -\(Self.largeBatchCacheKiB)", purpose: "raise the cache size for a large batch")
  }

  /// Places the events of `chunk` after the events written so far and inserts each, binding its
  /// bytes and hash without copying them (they stay valid until the step has finished); a stream
  /// met for the first time has its stored version read first.
  mutating func write(_ chunk: RecordChunk) throws {
    // Read once: used through `self` in the loop, each use would cost a reference count.
    let (insert, insertMessage, connection) = (insert, insertMessage, connection)
    try chunk.forEach { event in
      progress.position += 1
      let position = progress.position
      let version = try progress.versions.next(for: event.stream) { stream in
        try SQLiteEventLog.currentVersion(of: stream, on: connection)
      }
      progress.chain.append(position: position, version: version, event)
      do {
        try progress.chain.withLastHash { hash in
          try insert.bind(position, at: 1)
          try insert.bindUnretained(text: event.stream, at: 2)
          try insert.bind(version, at: 3)
          try insert.bindUnretained(text: event.type, at: 4)
          try insert.bindUnretained(text: event.actor, at: 5)
          try insert.bind(event.time, at: 6)
          try insert.bindUnretained(text: event.data, at: 7)
          try insert.bindUnretained(blob: hash, at: 8)
          _ = try insert.step()
          insert.rewind()
        }
        if !event.outbox.isEmpty {
          try Self.insertMessages(of: event, at: position, with: insertMessage)
        }
      } catch let error as EventLogError where error.isUniquenessViolation {
        let stream = String(decoding: event.stream, as: UTF8.self)
        let actual = try SQLiteEventLog.currentVersion(of: stream, on: connection)
        let expected = expectedVersions[stream] ?? version - 1
        throw EventLogError.versionConflict(stream: stream, expected: expected, actual: actual)
      }
    }
  }

  /// Inserts the outbox messages framed in `event.outbox`, numbered from 0.
  static func insertMessages(of event: EventRecordBytes, at position: Int64, with insert: SQLiteStatement) throws {
    var index: Int64 = 0
    try OutboxFrames.forEach(in: event.outbox) { recipient, data in
      try insert.bind(position, at: 1)
      try insert.bind(index, at: 2)
      try insert.bindUnretained(text: recipient, at: 3)
      try insert.bindUnretained(text: data, at: 4)
      _ = try insert.step()
      insert.rewind()
      index += 1
    }
  }

  /// What the batch wrote, once every event is inserted.
  var result: AppendResult {
    AppendResult(
      firstPosition: firstPosition, lastPosition: progress.position, versions: progress.versions.finalVersions())
  }
}

/// Overlaps producing a large append with writing it.
///
/// The events are copied into chunks (`RecordChunk`). A small batch (up to `chunkSize` events)
/// is written on the appending thread when the producer is done. When a chunk fills, a writer
/// thread starts and takes the chunks through a short ``Handoff``: it writes them with the
/// `BatchWriter` and hands the emptied chunks back for the producer to fill again.
final class AppendPipeline {
  private static let chunkSize = 1024
  /// Chunks the producer may get ahead of the writer.
  private static let queueLimit = 8

  /// The writer, until the writer thread takes it over (and once it has handed it back).
  private(set) var writer: BatchWriter
  private var chunk = RecordChunk()
  /// Chunks the writer has written and emptied, for the producer to fill again.
  private var spares: [RecordChunk] = []
  private var writing: (queue: Handoff<RecordChunk>, thread: Worker<Result<BatchWriter.Progress, any Error>>)?

  init(writer: BatchWriter) {
    self.writer = writer
  }

  /// Takes the next event from the producer.
  func add(_ event: EventRecordBytes) throws {
    guard chunk.add(event) == Self.chunkSize else { return }
    // The chunk is full: queued for the writer thread, started with the first.
    if writing == nil {
      try writer.prepareForLargeBatch()
      let (queue, writer) = (Handoff<RecordChunk>(capacity: Self.queueLimit), writer)
      writing = (queue, Worker(name: "EventLog append writer") { Self.write(from: queue, writer) })
    }
    guard writing!.queue.put(chunk) else { throw writerFailure() }
    spares += writing!.queue.takeBack()
    chunk = spares.popLast() ?? RecordChunk()
  }

  /// Writes what is left, waits for the writer and reports what was written.
  func finish() throws -> AppendResult {
    if let writing {
      guard writing.queue.put(chunk) else { throw writerFailure() }
      writing.queue.finish()
      self.writing = nil
      writer.progress = try writing.thread.join().get()
    } else {
      try writer.write(chunk)
    }
    return writer.result
  }

  /// Stops the writer (the transaction is then rolled back).
  func cancel() {
    guard let writing else { return }
    writing.queue.cancel()
    writing.thread.join()
    self.writing = nil
  }

  /// The error that stopped the writer thread, once it has ended.
  private func writerFailure() -> any Error {
    guard case .failure(let error) = writing!.thread.join() else {
      preconditionFailure("the append writer stopped taking chunks without failing")
    }
    writing = nil
    return error
  }

  /// The writer thread: writes the chunks of `queue` until the producer is done or the append is
  /// cancelled, and gives each written chunk back emptied. A failure cancels the queue, so that
  /// the producer stops.
  private static func write(from queue: Handoff<RecordChunk>, _ writer: BatchWriter) -> Result<
    BatchWriter.Progress, any Error
  > {
    var writer = writer
    do {
      while var next = try queue.take() {
        try writer.write(next)
        next.removeAll()
        queue.giveBack(next)
      }
      return .success(writer.progress)
    } catch {
      queue.cancel()
      return .failure(error)
    }
  }
}

/// The events of one chunk of an append, their bytes copied one after the other into one array.
///
/// Handing a chunk from the appending thread to the writer thread moves two arrays: no string
/// per event whose references the writer counts, or which it frees into the other thread's
/// memory (both cost more than copying the bytes, see `Docs/performance.md`). A written chunk is
/// emptied and filled again, so its memory is allocated once per append.
package struct RecordChunk: Sendable {
  /// Where each event's stream, type, actor, data and outbox frames end in `bytes` (its stream starts where the
  /// event before ends), and its time.
  private var ends: [(stream: Int, type: Int, actor: Int, data: Int, outbox: Int, time: Int64)] = []
  private var bytes: [UInt8] = []

  /// No event yet.
  package init() {}

  /// Copies `event` after the events the chunk holds; returns how many it holds then.
  package mutating func add(_ event: EventRecordBytes) -> Int {
    bytes.append(contentsOf: event.stream)
    let stream = bytes.count
    bytes.append(contentsOf: event.type)
    let type = bytes.count
    bytes.append(contentsOf: event.actor)
    let actor = bytes.count
    bytes.append(contentsOf: event.data)
    let data = bytes.count
    bytes.append(contentsOf: event.outbox)
    ends.append((stream, type, actor, data, bytes.count, event.time))
    return ends.count
  }

  /// Lends each event in turn to `body`.
  package func forEach(_ body: (EventRecordBytes) throws -> Void) throws {
    try bytes.withUnsafeBufferPointer { all in
      var start = 0
      for end in ends {
        try body(
          EventRecordBytes(
            stream: UnsafeBufferPointer(rebasing: all[start..<end.stream]),
            type: UnsafeBufferPointer(rebasing: all[end.stream..<end.type]),
            actor: UnsafeBufferPointer(rebasing: all[end.type..<end.actor]), time: end.time,
            data: UnsafeBufferPointer(rebasing: all[end.actor..<end.data]),
            outbox: UnsafeBufferPointer(rebasing: all[end.data..<end.outbox])))
        start = end.outbox
      }
    }
  }

  /// Forgets the events, keeping the memory.
  package mutating func removeAll() {
    ends.removeAll(keepingCapacity: true)
    bytes.removeAll(keepingCapacity: true)
  }
}
