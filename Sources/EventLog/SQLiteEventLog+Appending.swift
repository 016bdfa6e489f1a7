import Foundation

extension SQLiteEventLog {
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
  /// for every row, and text bound without copying; a large batch is hashed
  /// and inserted on two threads (see ``append(expectedVersions:_:)``).
  ///
  /// - Throws: ``EventLogError/versionConflict(stream:expected:actual:)``,
  ///   ``EventLogError/busy(path:)`` when another connection holds the write
  ///   lock past the busy timeout, ``EventLogError/readOnly(path:)``.
  public func append(_ events: [EventRecord], expectedVersions: [String: Int64]) throws
    -> AppendResult
  {
    guard !events.isEmpty else {
      // Nothing to write: check the expectations in a read transaction,
      // which also works on a read-only log.
      return try read { connection in
        _ = try Self.checkExpectations(expectedVersions, on: connection)
        let last = try connection.integer(
          "SELECT max(position) FROM events", purpose: "read the last position")
        return AppendResult(firstPosition: last + 1, lastPosition: last, versions: [:])
      }
    }
    return try append(expectedVersions: expectedVersions) { appender in
      for event in events {
        try appender.append(event)
      }
    }
  }

  /// Appends the events `produce` hands over, atomically in one transaction,
  /// while they are produced.
  ///
  /// The expectations are checked in the write transaction (`BEGIN
  /// IMMEDIATE`) before `produce` is called. The first events are kept; once
  /// a batch grows past a thousand events a second thread takes over hashing
  /// and inserting them while `produce` goes on, so a large import costs
  /// about the slower of the two rather than their sum. The transaction
  /// commits when `produce` returns and every event is written, and rolls
  /// back when either side fails. Even when `produce` appends nothing, the
  /// write transaction is taken (use ``append(_:expectedVersions:)`` with an
  /// empty batch to only check expectations).
  ///
  /// - Throws: ``EventLogError/versionConflict(stream:expected:actual:)``,
  ///   ``EventLogError/busy(path:)``, ``EventLogError/readOnly(path:)``, or
  ///   what `produce` throws; nothing is written then.
  public func append(
    expectedVersions: [String: Int64], _ produce: (EventAppender) throws -> Void
  ) throws -> AppendResult {
    try withLock {
      try write { connection in
        let checked = try Self.checkExpectations(expectedVersions, on: connection)
        let planner = try BatchPlanner(connection: connection, knownVersions: checked)
        let writer = try BatchWriter(connection: connection, expectedVersions: expectedVersions)
        defer { writer.close() }
        let pipeline = AppendPipeline(writer: writer, planner: planner)
        do {
          try producing {
            try produce(EventAppender(firstPosition: pipeline.firstPosition) { try pipeline.add($0) })
          }
          return try pipeline.finish()
        } catch {
          pipeline.cancel()
          throw error
        }
      }
    }
  }

  /// Throws a version conflict for the first stream (in byte order) whose
  /// current version differs from the expected one; returns the versions
  /// checked.
  static func checkExpectations(
    _ expected: [String: Int64], on connection: SQLiteConnection
  ) throws -> [StreamKey: Int64] {
    var checked: [StreamKey: Int64] = [:]
    // In an empty log every stream is at version 0: no need to ask for each (an import into a
    // new log names thousands).
    let empty =
      try expected.count > 1
      && connection.integer("SELECT max(position) FROM events", purpose: "read the last position") == 0
    for stream in Array(expected.keys).sortedByUTF8() {
      let expectedVersion = expected[stream] ?? 0
      let actual = empty ? 0 : try currentVersion(of: stream, on: connection)
      if actual != expectedVersion {
        throw EventLogError.versionConflict(
          stream: stream, expected: expectedVersion, actual: actual)
      }
      checked[StreamKey(stream)] = actual
    }
    return checked
  }
}

/// What the log assigned one event of an append: its position, version and
/// chain link.
struct Placement: Sendable {
  var position: Int64
  var version: Int64
  /// The event's 32-byte chain link.
  var hash: SIMD32<UInt8>
}

/// Assigns positions and versions to the events of one append and extends
/// the hash chain; `BatchWriter` then inserts them.
struct BatchPlanner {
  private var versions: StreamVersions
  private var chain: EventHashChain
  private(set) var position: Int64

  /// The position of the batch's first event.
  let firstPosition: Int64

  /// Continues after the last event of the log that `connection` sees.
  init(connection: SQLiteConnection, knownVersions: [StreamKey: Int64]) throws {
    let (lastPosition, lastHash) = try connection.withStatement(
      "SELECT position, hash FROM events ORDER BY position DESC LIMIT 1",
      purpose: "read the last event"
    ) { statement in
      try statement.step()
        ? (statement.int64(at: 0), statement.blob(at: 1)) : (0, EventHashChain.genesis)
    }
    guard let chain = EventHashChain(lastHash: lastHash) else {
      throw EventLogError.corrupt(
        "the hash of the last event (position \(lastPosition)) is not 32 bytes; "
          + "run verify to inspect the log"
      )
    }
    self.chain = chain
    versions = StreamVersions(known: knownVersions)
    position = lastPosition
    firstPosition = lastPosition + 1
  }

  /// Places `record` after the events planned so far; `load` reads the
  /// stored version of a stream the planner does not know yet.
  ///
  /// The record is read where it lies (`record`), not copied: copying would
  /// count references to its strings, which another thread made.
  mutating func plan(_ record: UnsafePointer<EventRecord>, load: (String) throws -> Int64) rethrows -> Placement {
    position += 1
    let version = try versions.next(for: record.pointee.stream, load: load)
    chain.append(
      position: position,
      stream: record.pointee.stream,
      version: version,
      type: record.pointee.type,
      actor: record.pointee.actor,
      time: record.pointee.time,
      data: record.pointee.data
    )
    var hash = SIMD32<UInt8>()
    chain.withLastHash { bytes in
      withUnsafeMutableBytes(of: &hash) { $0.copyMemory(from: bytes) }
    }
    return Placement(position: position, version: version, hash: hash)
  }

  /// What the batch wrote, once every planned event is inserted.
  func result() -> AppendResult {
    AppendResult(firstPosition: firstPosition, lastPosition: position, versions: versions.finalVersions())
  }
}

/// Inserts planned events inside the open write transaction with one
/// prepared statement.
///
/// It is used by one thread at a time: the appending thread, or the
/// pipeline's writer thread (see `AppendPipeline`). The log's lock stays
/// held by the appending thread throughout, so no other call reaches the
/// connection meanwhile.
final class BatchWriter: @unchecked Sendable {
  // @unchecked Sendable: handed from the appending thread to the pipeline's
  // thread and back; `AppendPipeline` orders every handoff with its lock.

  private static let insertSQL = """
    INSERT INTO events (position, stream, version, type, actor, time_us, data, hash)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
    """

  /// The page cache size, in KiB, used while appending a large batch.
  ///
  /// Rows of many streams interleaved scatter the inserts over the whole
  /// `(stream, version)` index; with SQLite's default 2 MiB cache most of
  /// them then miss the cache, which made importing 1,000,000 events of 1,000
  /// interleaved streams about twice as slow. The cache only grows as pages
  /// are touched and is shrunk back after the batch.
  private static let largeBatchCacheKiB = 65_536

  let connection: SQLiteConnection
  private let insert: SQLiteStatement
  private let expectedVersions: [String: Int64]
  private var previousCacheSize: Int64?

  init(connection: SQLiteConnection, expectedVersions: [String: Int64]) throws {
    self.connection = connection
    self.expectedVersions = expectedVersions
    insert = try connection.checkOut(Self.insertSQL, purpose: "insert an event")
  }

  /// Gives the insert back to the connection and restores its cache size.
  func close() {
    connection.checkIn(insert)
    if let previousCacheSize {
      try? connection.execute("PRAGMA cache_size = \(previousCacheSize)", purpose: "restore the cache size")
      self.previousCacheSize = nil
    }
  }

  /// Raises the page cache for the rest of a large batch.
  func prepareForLargeBatch() throws {
    guard previousCacheSize == nil else { return }
    previousCacheSize = try connection.integer("PRAGMA cache_size", purpose: "read the cache size")
    try connection.execute(
      "PRAGMA cache_size = -\(Self.largeBatchCacheKiB)", purpose: "raise the cache size for a large batch")
  }

  /// Inserts the record at `record` where the planner placed it.
  func insert(_ record: UnsafePointer<EventRecord>, at placement: Placement) throws {
    do {
      try insertRow(record, at: placement)
    } catch let error as EventLogError where error.isUniquenessViolation {
      let stream = record.pointee.stream
      let actual = try SQLiteEventLog.currentVersion(of: stream, on: connection)
      let expected = expectedVersions[stream] ?? placement.version - 1
      throw EventLogError.versionConflict(stream: stream, expected: expected, actual: actual)
    }
  }

  /// Binds one row and steps the insert, without copying any text: the
  /// record's strings (read where they lie: the closures hold only a pointer
  /// to the record) and the hash stay alive until the step has finished.
  @inline(__always)
  private func insertRow(_ record: UnsafePointer<EventRecord>, at placement: Placement) throws {
    let insert = insert
    var hash = placement.hash
    try Self.withUTF8(record.pointee.stream) { stream in
      try Self.withUTF8(record.pointee.type) { type in
        try Self.withUTF8(record.pointee.actor) { actor in
          try Self.withUTF8(record.pointee.data) { data in
            try withUnsafeBytes(of: &hash) { hash in
              try insert.bind(placement.position, at: 1)
              try insert.bindUnretained(text: stream, at: 2)
              try insert.bind(placement.version, at: 3)
              try insert.bindUnretained(text: type, at: 4)
              try insert.bindUnretained(text: actor, at: 5)
              try insert.bind(record.pointee.time, at: 6)
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

  /// Calls `body` with the UTF-8 bytes of `text`, valid only during `body`:
  /// in place for a native string (a small one is copied to the stack), else
  /// through a contiguous copy.
  @inline(__always)
  private static func withUTF8<Result>(
    _ text: String, _ body: (UnsafeBufferPointer<UInt8>) throws -> Result
  ) throws -> Result {
    if let result = try text.utf8.withContiguousStorageIfAvailable(body) { return result }
    var copy = text
    return try copy.withUTF8(body)
  }
}

/// Overlaps producing a large append with writing it.
///
/// The first events are only collected. When a batch reaches `chunkSize`
/// events, a writer thread starts and the appending thread hands over
/// chunks of that size through a short queue; the thread plans them
/// (positions, versions, the hash chain: `BatchPlanner`) and inserts them
/// with the `BatchWriter`, so that the appending thread is left with
/// producing the events. A small batch (a single event) is planned and
/// written on the appending thread and never starts a thread.
final class AppendPipeline: @unchecked Sendable {
  // @unchecked Sendable: `condition` guards `queue`, `producerDone`,
  // `cancelled`, `writerDone` and `failure`; `chunk` and `thread` belong to
  // the appending thread; the planner and the writer are used by one thread
  // at a time (the appending thread until the writer thread starts, then
  // that thread until it has ended).

  private static let chunkSize = 1024
  /// Chunks the producer may get ahead of the writer.
  private static let queueLimit = 8

  private let writer: BatchWriter
  private var planner: BatchPlanner
  private let condition = NSCondition()
  private var chunk: [EventRecord] = []
  private var queue: [[EventRecord]] = []
  private var thread: Thread?
  private var producerDone = false
  private var cancelled = false
  private var writerDone = false
  /// Opened by the writer thread once it no longer holds the pipeline.
  private let exited = Gate()
  private var failure: (any Error)?

  /// The position of the batch's first event.
  let firstPosition: Int64

  init(writer: BatchWriter, planner: BatchPlanner) {
    self.writer = writer
    self.planner = planner
    firstPosition = planner.firstPosition
    chunk.reserveCapacity(Self.chunkSize)
  }

  /// Takes the next event from the producer.
  func add(_ record: EventRecord) throws {
    chunk.append(record)
    guard chunk.count == Self.chunkSize else { return }
    if thread == nil { try start() }
    condition.lock()
    defer { condition.unlock() }
    while queue.count >= Self.queueLimit, failure == nil {
      condition.wait()
    }
    if let failure { throw failure }
    queue.append(chunk)
    chunk = []
    chunk.reserveCapacity(Self.chunkSize)
    condition.broadcast()
  }

  /// Writes what is left, waits for the writer and reports what was written.
  func finish() throws -> AppendResult {
    guard thread != nil else {
      try write(chunk)
      chunk = []
      return planner.result()
    }
    condition.lock()
    queue.append(chunk)
    chunk = []
    producerDone = true
    condition.broadcast()
    while !writerDone {
      condition.wait()
    }
    let failure = failure
    condition.unlock()
    exited.wait()
    thread = nil
    if let failure { throw failure }
    return planner.result()
  }

  /// Stops the writer (the transaction is then rolled back).
  func cancel() {
    guard thread != nil else { return }
    condition.lock()
    cancelled = true
    condition.broadcast()
    while !writerDone {
      condition.wait()
    }
    condition.unlock()
    exited.wait()
    thread = nil
  }

  /// Plans and inserts `records` after the ones written so far.
  private func write(_ records: [EventRecord]) throws {
    let connection = writer.connection
    try records.withUnsafeBufferPointer { records in
      guard let first = records.baseAddress else { return }
      for index in records.indices {
        let record = first + index
        let placement = try planner.plan(record) { stream in
          try SQLiteEventLog.currentVersion(of: stream, on: connection)
        }
        try writer.insert(record, at: placement)
      }
    }
  }

  private func start() throws {
    try writer.prepareForLargeBatch()
    // The thread holds the pipeline (and so the connection) only while it writes, and says when
    // it has let go: once `finish()` or `cancel()` returns, dropping the pipeline closes nothing
    // late on another thread.
    let exited = exited
    let thread = Thread { [weak self] in
      Self.write(on: self)
      exited.open()
    }
    thread.name = "EventLog append writer"
    self.thread = thread
    thread.start()
  }

  /// Runs the writer loop of `pipeline`, if it still exists; the reference ends with the call.
  @inline(never)
  private static func write(on pipeline: AppendPipeline?) {
    pipeline?.run()
  }

  /// The writer thread: takes chunks off the queue until the producer is
  /// done, the append is cancelled or a write fails.
  private func run() {
    while true {
      condition.lock()
      while queue.isEmpty, !producerDone, !cancelled {
        condition.wait()
      }
      if cancelled || queue.isEmpty {
        writerDone = true
        condition.broadcast()
        condition.unlock()
        return
      }
      let next = queue.removeFirst()
      condition.broadcast()
      condition.unlock()
      do {
        try write(next)
      } catch {
        condition.lock()
        failure = error
        writerDone = true
        condition.broadcast()
        condition.unlock()
        return
      }
    }
  }
}

/// A one-way signal between threads: closed until ``open()``; ``wait()`` blocks until then.
package final class Gate: @unchecked Sendable {
  // @unchecked Sendable: `isOpen` is read and written while holding `condition`.
  private let condition = NSCondition()
  private var isOpen = false

  /// Creates a closed gate.
  package init() {}

  /// Opens the gate, releasing every thread waiting for it.
  package func open() {
    condition.lock()
    isOpen = true
    condition.broadcast()
    condition.unlock()
  }

  /// Waits until the gate is open.
  package func wait() {
    condition.lock()
    while !isOpen {
      condition.wait()
    }
    condition.unlock()
  }
}
