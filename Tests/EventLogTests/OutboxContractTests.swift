import EventLog
import Foundation
import PostgresEventLog
import Synchronization
import Testing

/// The outbox every backend keeps: messages stored with the events that leave them, read after a
/// cursor, and written again by a rebuild.
@Suite("Event log contract: outbox")
struct OutboxContractTests {
  /// An event that leaves a message for each of `recipients`.
  func sending(_ stream: String, _ n: Int, to recipients: [String]) -> EventRecord {
    var event = record(stream, n)
    event.outbox = recipients.enumerated().map {
      OutboxItem(recipient: $0.element, data: "{\"n\":\(n),\"i\":\($0.offset)}")
    }
    return event
  }

  func all(_ log: any EventLog, after cursor: OutboxCursor = .start, recipient: String? = nil) throws -> [OutboxMessage]
  {
    var messages: [OutboxMessage] = []
    try log.forEachOutboxMessage(after: cursor, recipient: recipient) {
      messages.append($0)
      return true
    }
    return messages
  }

  @Test(arguments: Backend.allCases)
  func messagesAreStoredWithTheirEvents(_ backend: Backend) throws {
    try backend.withLog { log throws in
      _ = try log.append(
        [sending("a", 1, to: ["x", "y"]), record("b", 2), sending("a", 3, to: ["y"])], expectedVersions: [:])
      let messages = try all(log)
      #expect(messages.map(\.cursor.description) == ["1-0", "1-1", "3-0"])
      #expect(messages.map(\.recipient) == ["x", "y", "y"])
      #expect(messages[1].data == #"{"n":1,"i":1}"#)
      #expect(try all(log, after: OutboxCursor(position: 1, index: 0)).map(\.cursor.description) == ["1-1", "3-0"])
      #expect(try all(log, recipient: "y").map(\.cursor.description) == ["1-1", "3-0"])
      #expect(try all(log, after: OutboxCursor(position: 1, index: 1), recipient: "x").isEmpty)
      #expect(try log.outboxIsFilled())
      // The outbox is outside the chain: the events verify as before.
      #expect(try log.verify().isHealthy)
    }
  }

  @Test(arguments: Backend.allCases)
  func aConflictStoresNoMessage(_ backend: Backend) throws {
    try backend.withLog { log throws in
      _ = try log.append([record("a", 1)], expectedVersions: [:])
      #expect(throws: EventLogError.self) {
        try log.append([sending("a", 2, to: ["x"])], expectedVersions: ["a": 0])
      }
      #expect(try all(log).isEmpty)
    }
  }

  @Test(arguments: Backend.allCases)
  func aLargeStreamingAppendKeepsEveryMessage(_ backend: Backend) throws {
    try backend.withLog { log throws in
      _ = try log.append(expectedVersions: [:]) { appender in
        for n in 0..<5000 { try appender.append(sending("s\(n % 7)", n, to: n % 3 == 0 ? ["x", "y"] : [])) }
      }
      let messages = try all(log)
      #expect(messages.count == 2 * 1667)
      #expect(messages.first?.cursor == OutboxCursor(position: 1, index: 0))
      #expect(messages.last?.cursor == OutboxCursor(position: 4999, index: 1))
      #expect(messages.last?.data == #"{"n":4998,"i":1}"#)
    }
  }

  @Test(arguments: Backend.allCases)
  func aRebuildReplacesTheMessagesUpToTheLastEvent(_ backend: Backend) throws {
    try backend.withLog { log throws in
      _ = try log.append([sending("a", 1, to: ["x"]), sending("a", 2, to: ["x", "y"])], expectedVersions: [:])
      try log.rebuildOutbox { through, sink in
        #expect(through == 2)
        #expect(try !log.outboxIsFilled())
        try sink.add(OutboxMessage(cursor: OutboxCursor(position: 2, index: 0), recipient: "z", data: "{}"))
      }
      #expect(try log.outboxIsFilled())
      #expect(try all(log) == [OutboxMessage(cursor: OutboxCursor(position: 2, index: 0), recipient: "z", data: "{}")])
    }
  }

  @Test(arguments: Backend.allCases)
  func aFailedRebuildLeavesTheOutboxMarkedUnfilled(_ backend: Backend) throws {
    struct Stop: Error {}
    try backend.withLog { log throws in
      _ = try log.append([sending("a", 1, to: ["x"])], expectedVersions: [:])
      #expect(throws: Stop.self) { try log.rebuildOutbox { _, _ in throw Stop() } }
      #expect(try !log.outboxIsFilled())
    }
  }

  /// Two rebuilds at once, the second begun by another process (another handle) while the first
  /// fills: the outbox is marked filled only once the later one has ended, whichever ends first.
  @Test(arguments: [Backend.sqliteFile] + (testPostgresURL == nil ? [] : [Backend.postgres]))
  func overlappingRebuildsKeepTheOutboxMarkedUntilTheLastEnds(_ backend: Backend) throws {
    try backend.withLog { first in
      let second: any EventLog & Sendable =
        switch first {
        case let log as SQLiteEventLog: try SQLiteEventLog(path: log.path, options: .init())
        case let log as PostgresEventLog: try PostgresEventLog(location: log.location)
        default: first
        }
      _ = try first.append([sending("a", 1, to: ["x"]), sending("a", 2, to: ["y"])], expectedVersions: [:])
      let message = OutboxMessage(cursor: OutboxCursor(position: 2, index: 0), recipient: "y", data: "{}")
      let (firstFilling, secondBegun, firstEnded) = (
        DispatchSemaphore(value: 0), DispatchSemaphore(value: 0), DispatchSemaphore(value: 0)
      )
      let secondResult = Mutex<Result<Void, any Error>?>(nil)
      Thread.detachNewThread {
        firstFilling.wait()
        let result = Result {
          try second.rebuildOutbox { _, sink in
            secondBegun.signal()
            firstEnded.wait()
            try sink.add(message)
          }
        }
        secondResult.withLock { $0 = result }
        secondBegun.signal()
      }
      try first.rebuildOutbox { _, sink in
        try sink.add(message)
        firstFilling.signal()
        secondBegun.wait()
      }
      #expect(try !first.outboxIsFilled(), "the second rebuild is still filling")
      firstEnded.signal()
      secondBegun.wait()
      try #require(secondResult.withLock { $0 }).get()
      #expect(try first.outboxIsFilled())
      #expect(try all(first) == [message])
    }
  }

  @Test func framesThatAreCutShortAreRefused() throws {
    var frames = OutboxFrames([OutboxItem(recipient: "x", data: "{}")])
    #expect(frames.bytes.count == 4 + 1 + 4 + 2)
    frames = OutboxFrames([OutboxItem(recipient: "x", data: "{}")])
    let cut = Array(frames.bytes.dropLast())
    #expect(throws: EventLogError.self) {
      try cut.withUnsafeBufferPointer { try OutboxFrames.forEach(in: $0) { _, _ in } }
    }
  }
}
