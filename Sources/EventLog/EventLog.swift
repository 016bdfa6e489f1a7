/// Reading capability of an event log.
///
/// Streaming methods call `body` once per event, in the documented order,
/// without loading the whole log into memory; `body` returns `false` to stop
/// early. Errors thrown by `body` propagate unchanged. A scan sees one
/// consistent snapshot of the log.
///
/// `body` may call other reading methods of the same log, but must not call
/// ``EventLogWriter/append(_:expectedVersions:)`` on it: that throws
/// ``EventLogError/sqlite(code:message:)`` with code 21 (misuse).
public protocol EventLogReader {
  /// The position of the last event, or 0 when the log is empty.
  func lastPosition() throws -> Int64

  /// The version of the last event of `stream`, or 0 when the stream has no events.
  func version(of stream: String) throws -> Int64

  /// Streams events with `from <= position <= through` (`through` nil = to the end), in
  /// position order.
  func forEachEvent(from: Int64, through: Int64?, _ body: (StoredEvent) throws -> Bool) throws

  /// Streams one stream's events in version order, only those with
  /// `position <= throughPosition` (nil = all).
  func forEachEvent(inStream stream: String, throughPosition: Int64?, _ body: (StoredEvent) throws -> Bool) throws

  /// The highest position of `stream` before its first event (in position
  /// order) whose time is after `time`: the stream's last position when none
  /// of its events is after `time`, and nil when its first event already is
  /// (or it has no events). Times need not grow along a stream (they come
  /// from clocks that disagree): the events after that first one do not count,
  /// even those stamped before `time`.
  func lastPosition(inStream stream: String, beforeFirstAfter time: Int64) throws -> Int64?

  /// The smallest time in the log, or nil when the log is empty.
  func earliestTime() throws -> Int64?

  /// The names of all streams, sorted by the bytes of their UTF-8 encoding.
  func streams() throws -> [String]

  /// Recomputes the hash chain and checks positions 1…N without gaps and each
  /// stream's versions 1…n, streaming through the log once.
  func verify() throws -> VerifyReport

  /// ``forEachEvent(from:through:_:)``, lending each event's columns as bytes that are valid
  /// only during `body` (nothing is copied or decoded, the fast way through a large log), and
  /// needing of `version`, `time` and `hash` only the `columns` named: a log may then skip the
  /// others and lend them as 0 or empty (SQLite's log does), so a scan that needs less reads
  /// less. The default reads and lends every column.
  func forEachEventBytes(
    from: Int64, through: Int64?, columns: StoredEventBytes.Columns,
    _ body: (StoredEventBytes) throws -> Bool
  ) throws

  /// ``forEachEvent(inStream:throughPosition:_:)``, lending each event's columns as bytes that
  /// are valid only during `body`.
  func forEachEventBytes(
    inStream stream: String, throughPosition: Int64?, _ body: (StoredEventBytes) throws -> Bool
  ) throws

  /// The position of the last event of each of `streams` at or before
  /// `position`, in the order of `streams`: `nil` for a stream without events
  /// there. One call answers many streams, so that a reader that meets streams
  /// as it goes (replay, batch by batch) asks for each once, when it first
  /// meets it, instead of summarising the whole log before it starts.
  func lastPositions(ofStreams streams: [String], through position: Int64) throws -> [Int64?]

  /// Streams the outbox's messages after `cursor`, in cursor order: every recipient's, or only
  /// `recipient`'s. Reading a page costs what the page holds, however long the log.
  ///
  /// The outbox holds what each event left there (``EventRecord/outbox``), written in the
  /// event's transaction: derived data, outside the hash chain, that ``EventLogWriter/rebuildOutbox(_:)``
  /// writes again.
  func forEachOutboxMessage(
    after cursor: OutboxCursor, recipient: String?, _ body: (OutboxMessage) throws -> Bool
  ) throws

  /// Whether the outbox holds what every event left: false for a log upgraded from a version
  /// without an outbox until it is filled, and while a rebuild has not finished.
  func outboxIsFilled() throws -> Bool
}

/// Writing capability of an event log.
public protocol EventLogWriter: EventLogReader {
  /// Appends the batch atomically in one transaction.
  ///
  /// `expectedVersions[stream]` is the version the caller based its decision
  /// on (0 = the stream must not exist yet). Every entry is checked, also for
  /// streams without events in the batch; a stream of the batch missing from
  /// the dictionary is not checked. On any mismatch this throws
  /// ``EventLogError/versionConflict(stream:expected:actual:)`` and writes
  /// nothing. Each event gets position = last + 1 (gap-free) and version =
  /// its stream's last version + 1. The batch may be empty.
  func append(_ events: [EventRecord], expectedVersions: [String: Int64]) throws -> AppendResult

  /// Appends the events that `produce` hands to its ``EventAppender``,
  /// atomically in one transaction, as they are produced.
  ///
  /// The expectations are checked as in ``append(_:expectedVersions:)``
  /// before `produce` is called; on a mismatch `produce` is not called.
  /// When `produce` throws, nothing is written and its error is rethrown; an
  /// error of the log (a conflict found while writing, a full disk) is thrown
  /// by the appender's ``EventAppender/append(_:)``. A log may write the
  /// events on another thread while `produce` runs, so producing (validating,
  /// encoding) overlaps with writing; `produce` itself runs on the calling
  /// thread, and must not call the log.
  func append(
    expectedVersions: [String: Int64], _ produce: (EventAppender) throws -> Void
  ) throws -> AppendResult

  /// Appends as ``append(expectedVersions:_:)`` does, or on a guess, for a caller that can
  /// produce its events again: a log that other writers share and that must ask its server for the
  /// last position may guess it instead (the last one it wrote itself), call `produce` with it
  /// before checking anything, and then check and write in one exchange with its server.
  ///
  /// When another writer appended meanwhile, the events were produced for positions they cannot
  /// get: nothing is written and the result is nil; append them again with
  /// ``append(expectedVersions:_:)``. A version conflict is thrown as that method throws it, but
  /// `produce` may have run before it was found. A log that never guesses (the default) appends
  /// with ``append(expectedVersions:_:)``.
  func appendGuessingPosition(
    expectedVersions: [String: Int64], _ produce: (EventAppender) throws -> Void
  ) throws -> AppendResult?

  /// Writes the outbox of the events up to the last one again, from what `produce` hands to the
  /// ``OutboxRebuild``; the log's events are not touched.
  ///
  /// The log first empties the outbox of the events up to the last one (its position is
  /// `produce`'s `through`) and marks it as not filled; `produce` may read the log meanwhile, and
  /// events appended meanwhile keep the messages they leave. When `produce` returns, the outbox
  /// is filled again (``EventLogReader/outboxIsFilled()``); when it throws, it stays marked as
  /// not filled, and a later rebuild starts again.
  func rebuildOutbox(_ produce: (_ through: Int64, _ sink: OutboxRebuild) throws -> Void) throws
}

/// Receives the messages of an outbox rebuild; see ``EventLogWriter/rebuildOutbox(_:)``.
public final class OutboxRebuild {
  private var pending: [OutboxMessage] = []
  private let write: ([OutboxMessage]) throws -> Void
  /// Messages kept before they are written.
  private static let batchSize = 4096

  /// A sink that hands the messages to `write`, a batch at a time; logs create it.
  public init(write: @escaping ([OutboxMessage]) throws -> Void) {
    self.write = write
  }

  /// Adds `message` to the outbox; messages may come in any order, each cursor once.
  public func add(_ message: OutboxMessage) throws {
    pending.append(message)
    if pending.count >= Self.batchSize { try flush() }
  }

  /// Writes what is pending.
  public func flush() throws {
    guard !pending.isEmpty else { return }
    try write(pending)
    pending.removeAll(keepingCapacity: true)
  }
}

/// Receives the events of a streaming append; see
/// ``EventLogWriter/append(expectedVersions:_:)``.
///
/// An event is handed over as an ``EventRecord`` or lent as bytes
/// (``EventRecordBytes``); a log that copies events into its own buffers takes
/// the bytes without any string being made for them.
public struct EventAppender {
  /// The position the first event appended gets; the following events get
  /// the following positions.
  public let firstPosition: Int64

  private let sink: (EventRecord) throws -> Void
  private let bytesSink: ((EventRecordBytes) throws -> Void)?

  /// Creates an appender that hands each event to `sink`, and each event lent as bytes to
  /// `bytesSink` (which refuses bytes that are not UTF-8) or else, copied into an
  /// ``EventRecord``, to `sink`; logs create it.
  public init(
    firstPosition: Int64, sink: @escaping (EventRecord) throws -> Void,
    bytesSink: ((EventRecordBytes) throws -> Void)? = nil
  ) {
    self.firstPosition = firstPosition
    self.sink = sink
    self.bytesSink = bytesSink
  }

  /// Appends `event` after the events already appended.
  ///
  /// - Throws: An error of the log, after which the append writes nothing.
  public func append(_ event: EventRecord) throws {
    try sink(event)
  }

  /// Appends the event lent as `event` after the events already appended;
  /// the log copies the bytes, which need to stay valid only during the call.
  ///
  /// - Throws: ``EventLogError/sqlite(code:message:)`` with code 21 (misuse)
  ///   when a column is not valid UTF-8, or another error of the log; the
  ///   append then writes nothing.
  public func append(_ event: EventRecordBytes) throws {
    if let bytesSink {
      try bytesSink(event)
    } else {
      try sink(try event.record())
    }
  }
}

/// An event log that can be read and appended to.
public typealias EventLog = EventLogWriter

extension EventLogReader {
  /// Streams events with `from <= position <= through` (`through` nil = to the end), decoded
  /// from ``forEachEventBytes(from:through:columns:_:)``.
  public func forEachEvent(from: Int64, through: Int64?, _ body: (StoredEvent) throws -> Bool) throws {
    try forEachEventBytes(from: from, through: through, columns: .all) { try body($0.event) }
  }

  /// Streams one stream's events with `position <= throughPosition` (nil = all), decoded from
  /// ``forEachEventBytes(inStream:throughPosition:columns:_:)``.
  public func forEachEvent(
    inStream stream: String, throughPosition: Int64?, _ body: (StoredEvent) throws -> Bool
  ) throws {
    try forEachEventBytes(inStream: stream, throughPosition: throughPosition) { try body($0.event) }
  }

  /// ``lastPosition(inStream:beforeFirstAfter:)`` by streaming the stream's
  /// events up to the first one stamped after `time`.
  public func lastPosition(inStream stream: String, beforeFirstAfter time: Int64) throws -> Int64? {
    var last: Int64?
    try forEachEvent(inStream: stream, throughPosition: nil) { event in
      guard event.time <= time else { return false }
      last = event.position
      return true
    }
    return last
  }

  /// Collects the events with `from <= position <= through` into an array.
  ///
  /// This loads the range into memory: meant for small ranges and tests. Use
  /// ``forEachEvent(from:through:_:)`` for large ones.
  public func events(from: Int64 = 1, through: Int64? = nil) throws -> [StoredEvent] {
    try collect { try forEachEvent(from: from, through: through, $0) }
  }

  /// Collects one stream's events, in version order, into an array.
  ///
  /// This loads the stream into memory; use
  /// ``forEachEvent(inStream:throughPosition:_:)`` for long streams.
  public func events(inStream stream: String, throughPosition: Int64? = nil) throws -> [StoredEvent] {
    try collect { try forEachEvent(inStream: stream, throughPosition: throughPosition, $0) }
  }

  private func collect(_ scan: ((StoredEvent) throws -> Bool) throws -> Void) throws -> [StoredEvent] {
    var events: [StoredEvent] = []
    try scan { event in
      events.append(event)
      return true
    }
    return events
  }

  /// ``forEachEventBytes(from:through:columns:_:)`` with every column.
  public func forEachEventBytes(
    from: Int64, through: Int64?, _ body: (StoredEventBytes) throws -> Bool
  ) throws {
    try forEachEventBytes(from: from, through: through, columns: .all, body)
  }

  /// Streams events by position as bytes through ``forEachEvent(from:through:_:)``, with every
  /// column: what is not asked for is lent too.
  public func forEachEventBytes(
    from: Int64, through: Int64?, columns: StoredEventBytes.Columns,
    _ body: (StoredEventBytes) throws -> Bool
  ) throws {
    try forEachEvent(from: from, through: through) { event in
      try StoredEventBytes.withBytes(of: event, body)
    }
  }

  /// Streams one stream's events as bytes, through ``forEachEvent(inStream:throughPosition:_:)``.
  public func forEachEventBytes(
    inStream stream: String, throughPosition: Int64?, _ body: (StoredEventBytes) throws -> Bool
  ) throws {
    try forEachEvent(inStream: stream, throughPosition: throughPosition) { event in
      try StoredEventBytes.withBytes(of: event, body)
    }
  }

  /// Reads each stream's events up to `position`, keeping the last position.
  public func lastPositions(ofStreams streams: [String], through position: Int64) throws -> [Int64?] {
    try lastPositionsByReading(streams, through: position)
  }

  /// The default ``lastPositions(ofStreams:through:)``: each stream's events read up to
  /// `position`.
  package func lastPositionsByReading(_ streams: [String], through position: Int64) throws -> [Int64?] {
    try streams.map { stream in
      var last: Int64?
      try forEachEventBytes(inStream: stream, throughPosition: position) { event in
        last = event.position
        return true
      }
      return last
    }
  }

  /// Recomputes the hash chain and checks the positions and versions, reading every event once.
  public func verify() throws -> VerifyReport {
    var verifier = EventChainVerifier()
    try forEachEventBytes(from: Int64.min, through: nil) { event in
      verifier.check(event)
      return true
    }
    return verifier.report
  }
}

extension EventLogWriter {
  /// Collects the produced events and appends them with ``append(_:expectedVersions:)``. The
  /// appender's `firstPosition` is read before `produce` starts: a log that other writers share
  /// implements this method itself.
  public func append(
    expectedVersions: [String: Int64], _ produce: (EventAppender) throws -> Void
  ) throws -> AppendResult {
    var records: [EventRecord] = []
    try produce(EventAppender(firstPosition: try lastPosition() + 1) { records.append($0) })
    return try append(records, expectedVersions: expectedVersions)
  }

  /// Appends with ``append(expectedVersions:_:)``: a log that does not guess its last position.
  public func appendGuessingPosition(
    expectedVersions: [String: Int64], _ produce: (EventAppender) throws -> Void
  ) throws -> AppendResult? {
    try append(expectedVersions: expectedVersions, produce)
  }

  /// Appends `events` with ``appendGuessingPosition(expectedVersions:_:)`` or, when the guess
  /// fails, with ``append(expectedVersions:_:)``: they do not depend on their positions.
  package func appendRecords(_ events: [EventRecord], expectedVersions: [String: Int64]) throws -> AppendResult {
    func produce(_ appender: EventAppender) throws {
      for event in events { try appender.append(event) }
    }
    if let appended = try appendGuessingPosition(expectedVersions: expectedVersions, produce) { return appended }
    return try append(expectedVersions: expectedVersions, produce)
  }

  /// Appends the batch atomically without checking any stream's version.
  public func append(_ events: [EventRecord]) throws -> AppendResult {
    try append(events, expectedVersions: [:])
  }
}
