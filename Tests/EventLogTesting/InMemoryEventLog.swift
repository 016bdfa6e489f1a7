import EventLog

/// An event log kept in Swift arrays, with the same semantics as
/// ``SQLiteEventLog``: gap-free positions, per-stream versions, the same
/// hash chain, version conflicts that write nothing, and the same rules for
/// calling back into the log from a read.
///
/// Useful for tests and for running the same contract against two backends.
/// Its contents disappear with the instance.
public final class InMemoryEventLog: EventLogWriter, @unchecked Sendable {
  // @unchecked Sendable: the state below is used only while holding `lock`.
  private let lock = LogLock()

  /// All events; `events[i].position == i + 1`.
  private var events: [StoredEvent] = []

  /// Indices into `events` of each stream's events, by the stream's UTF-8 bytes (SQLite compares
  /// names by their bytes, Swift's strings by canonical equivalence).
  private var streamIndices: [[UInt8]: [Int]] = [:]

  /// The chain after the last event.
  private var chain = EventHashChain()

  /// The smallest time seen.
  private var minimumTime: Int64?

  /// The outbox, in cursor order.
  private var outbox: [OutboxMessage] = []

  /// Whether a rebuild of the outbox is under way.
  private var rebuilding = false

  /// Creates an empty log.
  public init() {}

  private func indices(of stream: String) -> [Int] {
    streamIndices[Array(stream.utf8)] ?? []
  }

  /// The position of the last event, or 0 when the log is empty.
  public func lastPosition() throws -> Int64 {
    try lock.read { _ in Int64(events.count) }
  }

  /// The version of the last event of `stream`, or 0 when the stream has no events.
  public func version(of stream: String) throws -> Int64 {
    try lock.read { _ in Int64(indices(of: stream).count) }
  }

  /// Streams events with `from <= position <= through` (`through` nil = to the end).
  public func forEachEvent(from: Int64, through: Int64?, _ body: (StoredEvent) throws -> Bool) throws {
    try lock.read { _ in
      let first = max(from, 1)
      let last = min(through ?? Int64.max, Int64(events.count))
      guard first <= last else { return }
      for event in events[Int(first - 1)..<Int(last)] {
        guard try body(event) else { return }
      }
    }
  }

  /// Streams one stream's events with `position <= throughPosition` (nil = all).
  public func forEachEvent(
    inStream stream: String, throughPosition: Int64?, _ body: (StoredEvent) throws -> Bool
  ) throws {
    try lock.read { _ in
      // A stream's positions grow with its versions: stop at the first one past the limit.
      for index in indices(of: stream) {
        guard events[index].position <= throughPosition ?? Int64.max, try body(events[index]) else { return }
      }
    }
  }

  /// The smallest time in the log, or nil when the log is empty.
  public func earliestTime() throws -> Int64? {
    try lock.read { _ in minimumTime }
  }

  /// The names of all streams, sorted by the bytes of their UTF-8 encoding.
  public func streams() throws -> [String] {
    try lock.read { _ in
      streamIndices.keys.sorted { $0.lexicographicallyPrecedes($1) }.map { String(decoding: $0, as: UTF8.self) }
    }
  }

  /// Appends the batch atomically, as ``EventLogWriter/append(_:expectedVersions:)`` describes.
  public func append(_ batch: [EventRecord], expectedVersions: [String: Int64]) throws -> AppendResult {
    try appendRecords(batch, expectedVersions: expectedVersions)
  }

  /// Appends the events that `produce` hands over, atomically: they are collected while
  /// `produce` runs and appended when it returns.
  public func append(
    expectedVersions: [String: Int64], _ produce: (EventAppender) throws -> Void
  ) throws -> AppendResult {
    try lock.append {
      try StreamVersions.check(expectedVersions) { Int64(indices(of: $0).count) }
      let firstPosition = Int64(events.count) + 1
      var batch: [EventRecord] = []
      try lock.producing {
        try produce(EventAppender(firstPosition: firstPosition) { batch.append($0) })
      }
      var versions = StreamVersions()
      for record in batch {
        let version = record.stream.withUTF8Bytes { name in versions.next(for: name) { Int64(indices(of: $0).count) } }
        var event = StoredEvent(
          position: Int64(events.count) + 1, stream: record.stream, version: version, type: record.type,
          actor: record.actor, time: record.time, data: record.data, hash: [])
        chain.append(event)
        event.hash = chain.lastHash
        streamIndices[Array(record.stream.utf8), default: []].append(events.count)
        events.append(event)
        for (index, item) in record.outbox.enumerated() {
          outbox.append(
            OutboxMessage(
              cursor: OutboxCursor(position: event.position, index: index), recipient: item.recipient, data: item.data))
        }
        minimumTime = min(minimumTime ?? record.time, record.time)
      }
      return AppendResult(
        firstPosition: firstPosition, lastPosition: Int64(events.count), versions: versions.finalVersions())
    }
  }

  /// Streams the outbox's messages after `cursor`, in cursor order (only `recipient`'s when given).
  public func forEachOutboxMessage(
    after cursor: OutboxCursor, recipient: String?, _ body: (OutboxMessage) throws -> Bool
  ) throws {
    try lock.read { _ in
      let first = outbox.firstIndex { $0.cursor > cursor } ?? outbox.endIndex
      for message in outbox[first...] where recipient == nil || message.recipient == recipient {
        guard try body(message) else { return }
      }
    }
  }

  /// Whether no rebuild of the outbox is under way.
  public func outboxIsFilled() throws -> Bool {
    try lock.read { _ in !rebuilding }
  }

  /// Writes the outbox of the events up to the last one again, from what `produce` hands over.
  public func rebuildOutbox(_ produce: (_ through: Int64, _ sink: OutboxRebuild) throws -> Void) throws {
    let through = try lock.append {
      let through = Int64(events.count)
      outbox.removeAll { $0.cursor.position <= through }
      rebuilding = true
      return through
    }
    let sink = OutboxRebuild { messages in
      try self.lock.append {
        let added = Set(messages.map(\.cursor))
        self.outbox.removeAll { added.contains($0.cursor) }
        self.outbox += messages
        self.outbox.sort { $0.cursor < $1.cursor }
      }
    }
    try produce(through, sink)
    try sink.flush()
    try lock.append { rebuilding = false }
  }
}
