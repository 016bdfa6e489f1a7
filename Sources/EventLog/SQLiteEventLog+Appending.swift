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
            try produce(
              EventAppender(
                firstPosition: pipeline.firstPosition, sink: { try pipeline.add($0) },
                bytesSink: { try pipeline.add($0) }))
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

  /// Places `event` after the events planned so far; `load` reads the
  /// stored version of a stream the planner does not know yet.
  mutating func plan(_ event: EventRecordBytes, load: (String) throws -> Int64) rethrows -> Placement {
    position += 1
    let version = try versions.next(for: event.stream, load: load)
    chain.append(
      position: position,
      stream: event.stream,
      version: version,
      type: event.type,
      actor: event.actor,
      time: event.time,
      data: event.data
    )
    var hash = SIMD32<UInt8>()
    chain.withLastHash { bytes in
      withUnsafeMutableBytes(of: &hash) { $0.copyMemory(from: bytes) }
    }
    return Placement(position: position, version: version, hash: hash)
  }

  /// Places the events of `chunk` one after the other, passing each with its
  /// placement to `place`.
  mutating func plan(
    _ chunk: RecordChunk, load: (String) throws -> Int64,
    then place: (EventRecordBytes, Placement) throws -> Void
  ) throws {
    for index in 0..<chunk.count {
      try chunk.withEvent(at: index) { event in
        try place(event, plan(event, load: load))
      }
    }
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

  /// Inserts `event` where the planner placed it.
  func insert(_ event: EventRecordBytes, at placement: Placement) throws {
    do {
      try insertRow(event, at: placement)
    } catch let error as EventLogError where error.isUniquenessViolation {
      let stream = String(decoding: event.stream, as: UTF8.self)
      let actual = try SQLiteEventLog.currentVersion(of: stream, on: connection)
      let expected = expectedVersions[stream] ?? placement.version - 1
      throw EventLogError.versionConflict(stream: stream, expected: expected, actual: actual)
    }
  }

  /// Binds one row and steps the insert, without copying any text: the
  /// event's bytes (in the pipeline's chunk) and the hash stay alive until the
  /// step has finished.
  @inline(__always)
  private func insertRow(_ event: EventRecordBytes, at placement: Placement) throws {
    let insert = insert
    var hash = placement.hash
    try withUnsafeBytes(of: &hash) { hash in
      try insert.bind(placement.position, at: 1)
      try insert.bindUnretained(text: event.stream, at: 2)
      try insert.bind(placement.version, at: 3)
      try insert.bindUnretained(text: event.type, at: 4)
      try insert.bindUnretained(text: event.actor, at: 5)
      try insert.bind(event.time, at: 6)
      try insert.bindUnretained(text: event.data, at: 7)
      try insert.bindUnretained(blob: hash, at: 8)
      _ = try insert.step()
      insert.rewind()
    }
  }
}

/// Overlaps producing a large append with writing it.
///
/// The events are copied into chunks (`RecordChunk`: one buffer of bytes
/// each). The first events are only collected. When a chunk reaches
/// `chunkSize` events, a writer thread starts and the appending thread hands
/// over chunks of that size through a short queue; the thread plans them
/// (positions, versions, the hash chain: `BatchPlanner`), inserts them with
/// the `BatchWriter` and hands the emptied chunks back for reuse, so that the
/// appending thread is left with producing the events. A small batch (a
/// single event) is planned and written on the appending thread and never
/// starts a thread.
final class AppendPipeline: @unchecked Sendable {
  // @unchecked Sendable: `condition` guards `queue`, `spares`,
  // `producerDone`, `cancelled`, `writerDone` and `failure`; `chunk` and
  // `thread` belong to the appending thread; the planner and the writer are
  // used by one thread at a time (the appending thread until the writer
  // thread starts, then that thread until it has ended).

  private static let chunkSize = 1024
  /// Chunks the producer may get ahead of the writer.
  private static let queueLimit = 8

  private let writer: BatchWriter
  private var planner: BatchPlanner
  private let condition = NSCondition()
  // Only the appending thread uses `chunk`: no other access can overlap one of its, so Swift's
  // run-time check of each access (four calls an event, about 300 instructions) is left out.
  @exclusivity(unchecked) private var chunk = RecordChunk()
  private var queue: [RecordChunk] = []
  /// Chunks the writer has written and emptied, for the producer to fill again.
  private var spares: [RecordChunk] = []
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
  }

  /// Takes the next event from the producer.
  func add(_ record: EventRecord) throws {
    EventRecordBytes.withBytes(of: record) { chunk.add($0) }
    try handOverIfFull()
  }

  /// Takes the next event, lent as bytes, from the producer.
  func add(_ event: EventRecordBytes) throws {
    try event.checkUTF8()
    chunk.add(event)
    try handOverIfFull()
  }

  /// Queues the chunk for the writer once it is full.
  @inline(__always)
  private func handOverIfFull() throws {
    guard chunk.count == Self.chunkSize else { return }
    if thread == nil { try start() }
    condition.lock()
    defer { condition.unlock() }
    while queue.count >= Self.queueLimit, failure == nil {
      condition.wait()
    }
    if let failure { throw failure }
    queue.append(chunk)
    chunk = spares.popLast() ?? RecordChunk()
    condition.broadcast()
  }

  /// Writes what is left, waits for the writer and reports what was written.
  func finish() throws -> AppendResult {
    guard thread != nil else {
      try write(chunk)
      chunk.removeAll()
      return planner.result()
    }
    condition.lock()
    queue.append(chunk)
    chunk = RecordChunk()
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

  /// Plans and inserts the events of `chunk` after the ones written so far.
  private func write(_ chunk: RecordChunk) throws {
    let writer = writer
    let connection = writer.connection
    try planner.plan(chunk) { stream in
      try SQLiteEventLog.currentVersion(of: stream, on: connection)
    } then: { event, placement in
      try writer.insert(event, at: placement)
    }
  }

  private func start() throws {
    try writer.prepareForLargeBatch()
    // The thread holds the pipeline (and so the connection) only while it writes, and says when
    // it has let go: once `finish()` or `cancel()` returns, dropping the pipeline closes nothing
    // late on another thread.
    // (A weak reference would do too, but it makes every reference count of the pipeline, one
    // per event added, take the runtime's slow path.)
    let exited = exited
    let handle = Handle(self)
    let thread = Thread {
      Self.write(on: handle.take())
      exited.open()
    }
    thread.name = "EventLog append writer"
    self.thread = thread
    thread.start()
  }

  /// Runs the writer loop of `pipeline`; the reference ends with the call.
  @inline(never)
  private static func write(on pipeline: AppendPipeline?) {
    pipeline?.run()
  }

  /// The pipeline, held for the writer thread until the thread takes it.
  private final class Handle: @unchecked Sendable {
    // @unchecked Sendable: `pipeline` is taken once, by the writer thread, which the appending
    // thread starts after creating the handle.
    private var pipeline: AppendPipeline?

    init(_ pipeline: AppendPipeline) { self.pipeline = pipeline }

    /// The pipeline, which the handle then no longer holds.
    func take() -> AppendPipeline? {
      defer { pipeline = nil }
      return pipeline
    }
  }

  /// The writer thread: takes chunks off the queue until the producer is
  /// done, the append is cancelled or a write fails, and gives each written
  /// chunk back emptied.
  private func run() {
    var written: RecordChunk?
    while true {
      condition.lock()
      if let emptied = written {
        spares.append(emptied)
        written = nil
      }
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
        next.removeAll()
        written = next
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

/// The events of one chunk of an append, their bytes copied one after the
/// other into one buffer.
///
/// Handing a chunk from the appending thread to the writer thread moves one
/// object: no string per event whose references the writer counts, or which
/// it frees into the other thread's memory (both cost more than copying the
/// bytes, see `Docs/performance.md`). A written chunk is emptied and filled
/// again, so its buffer is allocated once per append.
final class RecordChunk: @unchecked Sendable {
  // @unchecked Sendable: used by one thread at a time; `AppendPipeline`
  // orders every handoff with its lock.

  /// Where one event's columns are: its bytes start at `start`, the stream's
  /// first, then the type's, the actor's and the data's.
  private struct Extent {
    var start: Int
    var stream: Int
    var type: Int
    var actor: Int
    var data: Int
    var time: Int64
  }

  // One thread at a time (see above): Swift's run-time check of each access is left out.
  @exclusivity(unchecked) private var extents: [Extent] = []
  @exclusivity(unchecked) private var bytes = GrowingBytes(capacity: 4096)

  deinit {
    bytes.deallocate()
  }

  /// How many events the chunk holds.
  var count: Int { extents.count }

  /// Copies `event` after the events the chunk holds.
  @inline(__always)
  func add(_ event: EventRecordBytes) {
    let start = bytes.count
    bytes.reserve(event.stream.count + event.type.count + event.actor.count + event.data.count)
    bytes.append(event.stream)
    bytes.append(event.type)
    bytes.append(event.actor)
    bytes.append(event.data)
    extents.append(
      Extent(
        start: start, stream: event.stream.count, type: event.type.count, actor: event.actor.count,
        data: event.data.count, time: event.time))
  }

  /// Lends the event at `index` for the duration of `body`.
  @inline(__always)
  func withEvent<Result>(at index: Int, _ body: (EventRecordBytes) throws -> Result) rethrows -> Result {
    let extent = extents[index]
    let stream = UnsafeBufferPointer(start: bytes.base + extent.start, count: extent.stream)
    let type = UnsafeBufferPointer(start: stream.baseAddress! + extent.stream, count: extent.type)
    let actor = UnsafeBufferPointer(start: type.baseAddress! + extent.type, count: extent.actor)
    let data = UnsafeBufferPointer(start: actor.baseAddress! + extent.actor, count: extent.data)
    return try body(EventRecordBytes(stream: stream, type: type, actor: actor, time: extent.time, data: data))
  }

  /// Forgets the events, keeping the buffer.
  func removeAll() {
    extents.removeAll(keepingCapacity: true)
    bytes.removeAll()
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
