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

  /// Streams events with `from <= position <= through` (`through` nil = to the
  /// end), in position order, never loading the whole log in memory. Return
  /// false from body to stop early.
  func forEachEvent(from: Int64, through: Int64?, _ body: (StoredEvent) throws -> Bool) throws

  /// Streams one stream's events in version order, only those with
  /// `position <= throughPosition` (nil = all).
  func forEachEvent(
    inStream stream: String,
    throughPosition: Int64?,
    _ body: (StoredEvent) throws -> Bool
  ) throws

  /// Streams every event ordered by (stream, version), which lets callers
  /// process one stream at a time. Streams come in byte order of their UTF-8
  /// names, like ``streams()``.
  func forEachEventGroupedByStream(_ body: (StoredEvent) throws -> Bool) throws

  /// The highest position of `stream` whose time is at or before `time`, or
  /// nil when there is none.
  func lastPosition(inStream stream: String, atOrBefore time: Int64) throws -> Int64?

  /// The smallest time in the log, or nil when the log is empty.
  func earliestTime() throws -> Int64?

  /// The names of all streams, sorted by the bytes of their UTF-8 encoding.
  func streams() throws -> [String]

  /// Recomputes the hash chain and checks positions 1…N without gaps and each
  /// stream's versions 1…n, streaming through the log once.
  func verify() throws -> VerifyReport
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
  /// its stream's last version + 1.
  ///
  /// - Parameters:
  ///   - events: The events to append, in order; may be empty.
  ///   - expectedVersions: The version each listed stream must have now.
  /// - Returns: The positions written and each touched stream's new version.
  func append(_ events: [EventRecord], expectedVersions: [String: Int64]) throws -> AppendResult
}

/// An event log that can be read and appended to.
public typealias EventLog = EventLogWriter

extension EventLogReader {
  /// Streams every event in position order; return false from body to stop early.
  public func forEachEvent(_ body: (StoredEvent) throws -> Bool) throws {
    try forEachEvent(from: 1, through: nil, body)
  }

  /// Collects the events with `from <= position <= through` into an array.
  ///
  /// This loads the range into memory: meant for small ranges and tests. Use
  /// ``forEachEvent(from:through:_:)`` for large ones.
  public func events(from: Int64 = 1, through: Int64? = nil) throws -> [StoredEvent] {
    var events: [StoredEvent] = []
    try forEachEvent(from: from, through: through) { event in
      events.append(event)
      return true
    }
    return events
  }

  /// Collects one stream's events, in version order, into an array.
  ///
  /// This loads the stream into memory; use
  /// ``forEachEvent(inStream:throughPosition:_:)`` for long streams.
  public func events(inStream stream: String, throughPosition: Int64? = nil) throws -> [StoredEvent] {
    var events: [StoredEvent] = []
    try forEachEvent(inStream: stream, throughPosition: throughPosition) { event in
      events.append(event)
      return true
    }
    return events
  }
}

extension EventLogWriter {
  /// Appends the batch atomically without checking any stream's version.
  public func append(_ events: [EventRecord]) throws -> AppendResult {
    try append(events, expectedVersions: [:])
  }
}
