import Foundation

/// An event log kept in Swift arrays, with the same semantics as
/// ``SQLiteEventLog``: gap-free positions, per-stream versions, the same
/// hash chain, version conflicts that write nothing, and the same rules for
/// calling back into the log from a read.
///
/// Useful for tests and for running the same contract against two backends.
/// Its contents disappear with the instance.
public final class InMemoryEventLog: EventLogWriter, @unchecked Sendable {
  /// Serialises every call, as ``SQLiteEventLog`` does: the arrays and
  /// dictionaries below are not safe to mutate from several threads. The
  /// lock is recursive so the body of a streaming read may call other
  /// reading methods.
  private let lock = NSRecursiveLock()

  /// All events; `events[i].position == i + 1`.
  private var events: [StoredEvent] = []

  /// Indices into `events` of each stream's events, in version order.
  private var streamIndices: [StreamKey: [Int]] = [:]

  /// The chain after the last event.
  private var chain = EventHashChain()

  /// The smallest time seen.
  private var minimumTime: Int64?

  /// How many reads are in progress; appends are refused while one is.
  private var readDepth = 0

  /// Whether the producer of a streaming append is running; calls back into
  /// the log are refused meanwhile, as ``SQLiteEventLog`` does.
  private var isProducing = false

  /// Creates an empty log.
  public init() {}

  private func withLock<Result>(_ body: () throws -> Result) rethrows -> Result {
    lock.lock()
    defer { lock.unlock() }
    return try body()
  }

  /// Runs `body` while holding the lock, counting it as a read so that
  /// appends from inside it are refused, like ``SQLiteEventLog`` does.
  private func read<Result>(_ body: () throws -> Result) throws -> Result {
    try withLock {
      try refuseWhileProducing()
      readDepth += 1
      defer { readDepth -= 1 }
      return try body()
    }
  }

  private func refuseWhileProducing() throws {
    guard !isProducing else {
      throw EventLogError.misuse(
        "the log was called from inside the producer of a streaming append; "
          + "read what the producer needs before the append")
    }
  }

  // MARK: Reading

  /// The position of the last event, or 0 when the log is empty.
  public func lastPosition() throws -> Int64 {
    try read { Int64(events.count) }
  }

  /// The version of the last event of `stream`, or 0 when the stream has no events.
  public func version(of stream: String) throws -> Int64 {
    try read { currentVersion(of: StreamKey(stream)) }
  }

  private func currentVersion(of key: StreamKey) -> Int64 {
    Int64(streamIndices[key]?.count ?? 0)
  }

  /// Streams events with `from <= position <= through` (`through` nil = to the
  /// end), in position order. Return false from body to stop early.
  public func forEachEvent(from: Int64, through: Int64?, _ body: (StoredEvent) throws -> Bool)
    throws
  {
    try read {
      let last = min(through ?? Int64.max, Int64(events.count))
      var position = max(from, 1)
      while position <= last {
        guard try body(events[Int(position - 1)]) else { return }
        position += 1
      }
    }
  }

  /// Streams one stream's events in version order, only those with
  /// `position <= throughPosition` (nil = all).
  public func forEachEvent(
    inStream stream: String,
    throughPosition: Int64?,
    _ body: (StoredEvent) throws -> Bool
  ) throws {
    try read {
      let limit = throughPosition ?? Int64.max
      // A stream's positions grow with its versions: stop at the first one past the limit.
      for index in streamIndices[StreamKey(stream)] ?? [] {
        guard events[index].position <= limit, try body(events[index]) else { return }
      }
    }
  }

  /// Streams every event ordered by (stream, version); streams come in byte
  /// order of their UTF-8 names.
  public func forEachEventGroupedByStream(_ body: (StoredEvent) throws -> Bool) throws {
    try read {
      for key in streamIndices.keys.sorted() {
        for index in streamIndices[key] ?? [] {
          guard try body(events[index]) else { return }
        }
      }
    }
  }

  /// The highest position of `stream` whose time is at or before `time`, or nil.
  public func lastPosition(inStream stream: String, atOrBefore time: Int64) throws -> Int64? {
    try read {
      (streamIndices[StreamKey(stream)] ?? [])
        .lazy
        .map { self.events[$0] }
        .filter { $0.time <= time }
        .map(\.position)
        .max()
    }
  }

  /// The highest position of `stream` before its first event stamped after
  /// `time`, or nil (see the protocol).
  public func lastPosition(inStream stream: String, beforeFirstAfter time: Int64) throws -> Int64? {
    try read {
      var last: Int64?
      for index in streamIndices[StreamKey(stream)] ?? [] {
        guard events[index].time <= time else { break }
        last = events[index].position
      }
      return last
    }
  }

  /// The smallest time in the log, or nil when the log is empty.
  public func earliestTime() throws -> Int64? {
    try read { minimumTime }
  }

  /// The names of all streams, sorted by the bytes of their UTF-8 encoding.
  public func streams() throws -> [String] {
    try read { streamIndices.keys.sorted().map(\.name) }
  }

  /// Recomputes the hash chain and checks positions 1…N without gaps and each
  /// stream's versions 1…n.
  public func verify() throws -> VerifyReport {
    try read {
      var verifier = EventChainVerifier()
      for event in events {
        verifier.check(event)
      }
      return verifier.report
    }
  }

  /// Every stream with events at or before `position` (nil = the whole log),
  /// with its version and last position there, sorted by the bytes of the names.
  public func streamSummaries(through position: Int64?) throws -> [StreamSummary] {
    try read {
      let limit = position ?? Int64.max
      var summaries: [StreamSummary] = []
      for key in streamIndices.keys.sorted() {
        let positions = (streamIndices[key] ?? []).lazy.map { Int64($0) + 1 }.filter { $0 <= limit }
        guard let last = positions.last else { continue }
        summaries.append(
          StreamSummary(name: key.name, version: Int64(positions.count), lastPosition: last))
      }
      return summaries
    }
  }

  /// The last position of each of `streams` at or before `position`, from the streams' indices.
  public func lastPositions(ofStreams streams: [String], through position: Int64) throws -> [Int64?] {
    try read {
      streams.map { stream in
        guard let indices = streamIndices[StreamKey(stream)] else { return nil }
        // A stream's positions grow with its versions: the last one at or before `position`.
        return indices.last { Int64($0) + 1 <= position }.map { Int64($0) + 1 }
      }
    }
  }

  // MARK: Writing

  /// Appends the batch atomically.
  ///
  /// `expectedVersions[stream]` is the version the caller based its decision
  /// on (0 = the stream must not exist yet). Every entry is checked, also for
  /// streams without events in the batch; a stream of the batch missing from
  /// the dictionary is not checked. On any mismatch this throws
  /// ``EventLogError/versionConflict(stream:expected:actual:)`` and changes
  /// nothing. Each event gets position = last + 1 and version = its stream's
  /// last version + 1.
  public func append(_ batch: [EventRecord], expectedVersions: [String: Int64]) throws
    -> AppendResult
  {
    try append(expectedVersions: expectedVersions) { appender in
      for record in batch {
        try appender.append(record)
      }
    }
  }

  /// Appends the events that `produce` hands over, atomically: the
  /// expectations are checked first, the events are collected while
  /// `produce` runs and appended when it returns; when it throws, nothing
  /// changes.
  public func append(
    expectedVersions: [String: Int64], _ produce: (EventAppender) throws -> Void
  ) throws -> AppendResult {
    try withLock {
      try refuseWhileProducing()
      guard readDepth == 0 else {
        throw EventLogError.misuse(
          "append was called from inside a read of the same log; append after the read has returned"
        )
      }
      for stream in Array(expectedVersions.keys).sortedByUTF8() {
        let expected = expectedVersions[stream] ?? 0
        let actual = currentVersion(of: StreamKey(stream))
        if actual != expected {
          throw EventLogError.versionConflict(stream: stream, expected: expected, actual: actual)
        }
      }
      let firstPosition = Int64(events.count) + 1
      var batch: [EventRecord] = []
      isProducing = true
      do {
        defer { isProducing = false }
        try produce(EventAppender(firstPosition: firstPosition) { batch.append($0) })
      }
      var versions = StreamVersions()
      events.reserveCapacity(events.count + batch.count)
      for record in batch {
        let position = Int64(events.count) + 1
        let version = versions.next(for: record.stream) { currentVersion(of: StreamKey($0)) }
        chain.append(
          position: position,
          stream: record.stream,
          version: version,
          type: record.type,
          actor: record.actor,
          time: record.time,
          data: record.data
        )
        let event = StoredEvent(
          position: position,
          stream: record.stream,
          version: version,
          type: record.type,
          actor: record.actor,
          time: record.time,
          data: record.data,
          hash: chain.lastHash
        )
        streamIndices[StreamKey(record.stream), default: []].append(events.count)
        events.append(event)
        minimumTime = min(minimumTime ?? record.time, record.time)
      }
      return AppendResult(
        firstPosition: firstPosition,
        lastPosition: Int64(events.count),
        versions: versions.finalVersions()
      )
    }
  }
}
