import EventLog
import EventLogTesting

/// An event log that hands every call to an in-memory log; subclasses change how it appends, or
/// what it reports.
class ForwardingLog: EventLogWriter, @unchecked Sendable {
  // @unchecked Sendable: used by one test at a time; the inner log serialises itself.
  let inner = InMemoryEventLog()

  func lastPosition() throws -> Int64 { try inner.lastPosition() }
  func version(of stream: String) throws -> Int64 { try inner.version(of: stream) }
  func forEachEvent(from: Int64, through: Int64?, _ body: (StoredEvent) throws -> Bool) throws {
    try inner.forEachEvent(from: from, through: through, body)
  }
  func forEachEvent(
    inStream stream: String, throughPosition: Int64?, _ body: (StoredEvent) throws -> Bool
  ) throws {
    try inner.forEachEvent(inStream: stream, throughPosition: throughPosition, body)
  }
  func earliestTime() throws -> Int64? { try inner.earliestTime() }
  func streams() throws -> [String] { try inner.streams() }
  func verify() throws -> VerifyReport { try inner.verify() }
  func lastPositions(ofStreams streams: [String], through position: Int64) throws -> [Int64?] {
    try inner.lastPositions(ofStreams: streams, through: position)
  }
  func append(_ events: [EventRecord], expectedVersions: [String: Int64]) throws -> AppendResult {
    try inner.append(events, expectedVersions: expectedVersions)
  }
  func append(
    expectedVersions: [String: Int64], _ produce: (EventAppender) throws -> Void
  ) throws -> AppendResult {
    try inner.append(expectedVersions: expectedVersions, produce)
  }
  func forEachOutboxMessage(
    after cursor: OutboxCursor, recipient: String?, _ body: (OutboxMessage) throws -> Bool
  ) throws {
    try inner.forEachOutboxMessage(after: cursor, recipient: recipient, body)
  }
  func outboxIsFilled() throws -> Bool { try inner.outboxIsFilled() }
  func rebuildOutbox(_ produce: (_ through: Int64, _ sink: OutboxRebuild) throws -> Void) throws {
    try inner.rebuildOutbox(produce)
  }
}
