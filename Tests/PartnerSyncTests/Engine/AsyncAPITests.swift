import Foundation
import Testing

@testable import PartnerSync
@testable import PartnerSyncDomain

/// The asynchronous twins of `open`, `record`, `view`, `audit` and `notifications`: the same
/// names and results as the synchronous methods, which synchronous code keeps calling.
@Suite struct AsyncAPITests {
  static let start = Timestamp(rfc3339: "2026-03-02T09:00:00Z")!

  static let history = [
    TicketEvent(ticket: "T-1", by: "acme", at: start, .outsourced(Outsourcing(partner: "bolt", resource: "dana"))),
    TicketEvent(ticket: "T-1", by: "bolt", at: start, .accepted),
    TicketEvent(
      ticket: "T-1", by: "bolt", at: start,
      .entryAdded(entry: "n1", content: EntryContent(kind: .note, text: "On site"))),
    TicketEvent(
      ticket: "T-1", by: "bolt", at: start, .entryAdded(entry: "t1", content: EntryContent(kind: .time, hours: 1.5))),
  ]

  /// A fresh log file in a folder of its own, removed afterwards.
  static func withLogPath<T>(_ body: (String) async throws -> T) async throws -> T {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("async-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    return try await body(dir.appendingPathComponent("log.sqlite").path)
  }

  /// What the synchronous API reads, called from synchronous code (as the command line does).
  static func readSynchronously(
    _ log: PartnerSyncLog
  ) throws(PartnerSyncError) -> (TicketView, [SyncDecision], [PartnerNotification]) {
    (
      try log.view(ticket: "T-1", as: "acme"), try log.audit(ticket: "T-1", entry: "n1"),
      try log.notifications(after: 1)
    )
  }

  @Test func synchronousCodeCallsTheSynchronousMethods() throws {
    try withTemporaryPath { path in
      let log = try PartnerSyncLog.open(path: path, create: true)
      let result = try log.record(Self.history)
      #expect(result.firstPosition == 1 && result.lastPosition == 4)
      let (view, decisions, notifications) = try Self.readSynchronously(log)
      #expect(view.entries.map(\.id) == ["n1", "t1"])
      #expect(decisions.map(\.rule) == [.ownChangeSyncs])
      #expect(!notifications.isEmpty)
    }
  }

  @Test func asynchronousCodeGetsTheSameResults() async throws {
    try await Self.withLogPath { path in
      let log = try await PartnerSyncLog.open(path: path, create: true)
      let result = try await log.record(Self.history)
      #expect(result.firstPosition == 1 && result.lastPosition == 4)
      #expect(result.decisions.count == 2)
      let view = try await log.view(ticket: "T-1", as: "acme")
      let old = try await log.view(ticket: "T-1", as: "bolt", at: .position(2), engagement: 1)
      let decisions = try await log.audit(ticket: "T-1", entry: "n1")
      let all = try await log.audit(ticket: "T-1", at: .position(4))
      let notifications = try await log.notifications(after: 1)
      let ofTicket = try await log.notifications(ticket: "T-1")
      let (syncView, syncDecisions, syncNotifications) = try Self.readSynchronously(log)
      #expect(view == syncView)
      #expect(old.entries.isEmpty && old.position == 2)
      #expect(decisions == syncDecisions)
      #expect(all == result.decisions)
      #expect(notifications == syncNotifications)
      #expect(ofTicket == result.notifications)
      // A second handle of the same file, opened synchronously, sees the same log.
      #expect(try Self.viewOfOtherHandle(path: path) == view)
    }
  }

  static func recordSynchronously(_ log: PartnerSyncLog, _ events: [TicketEvent]) throws(PartnerSyncError) {
    try log.record(events)
  }

  static func viewOfOtherHandle(path: String) throws(PartnerSyncError) -> TicketView {
    try PartnerSyncLog.open(path: path).view(ticket: "T-1", as: "acme")
  }

  @Test func asynchronousErrorsAreTyped() async throws {
    try await Self.withLogPath { path in
      do throws(PartnerSyncError) {
        _ = try await PartnerSyncLog.open(path: path)
        Issue.record("opened a log that does not exist")
      } catch {
        #expect(error.code == .logNotFound)
      }
      let log = try await PartnerSyncLog.open(path: path, create: true)
      var codes: [PartnerSyncError.Code] = []
      do throws(PartnerSyncError) {
        try await log.record([TicketEvent(ticket: "T-1", by: "acme", .completionApproved)])
      } catch {
        codes.append(error.code)
        #expect(error.line == 1)
      }
      do throws(PartnerSyncError) {
        _ = try await log.view(ticket: "T-9", as: "acme")
      } catch {
        codes.append(error.code)
      }
      do throws(PartnerSyncError) {
        _ = try await log.audit(ticket: "T-9")
      } catch {
        codes.append(error.code)
      }
      do throws(PartnerSyncError) {
        _ = try await log.notifications(ticket: "T-9")
      } catch {
        codes.append(error.code)
      }
      #expect(codes == [.invalidEvent, .unknownTicket, .unknownTicket, .unknownTicket])
      #expect(try await log.record([]).count == 0)
    }
  }

  @Test func eventsWithoutATimeAreRecordedAtTheClocksTime() async throws {
    let log = try PartnerSyncLog.inMemory()
    let before = Timestamp.now()
    try await log.record([TicketEvent(ticket: "T-1", by: "acme", .outsourced(Outsourcing(partner: "bolt")))])
    try Self.recordSynchronously(log, [TicketEvent(ticket: "T-1", by: "bolt", .accepted)])
    let after = Timestamp.now()
    var times: [Timestamp] = []
    try log.forEachEvent { times.append($0.at) }
    #expect(times.count == 2)
    #expect(times.allSatisfy { $0 >= before && $0 <= after })
  }

  @Test func concurrentRecordsAreEachAppendedWhole() async throws {
    try await Self.withLogPath { path in
      let log = try await PartnerSyncLog.open(path: path, create: true)
      let ranges = try await withThrowingTaskGroup(of: ClosedRange<Int64>.self) { group in
        for index in 1...8 {
          group.addTask {
            let ticket = "T-\(index)"
            let result = try await log.record([
              TicketEvent(ticket: ticket, by: "acme", .outsourced(Outsourcing(partner: "bolt"))),
              TicketEvent(ticket: ticket, by: "bolt", .accepted),
            ])
            return result.firstPosition...result.lastPosition
          }
        }
        return try await group.reduce(into: []) { $0.append($1) }
      }
      // Each batch got two consecutive positions of its own.
      #expect(ranges.map(\.count) == Array(repeating: 2, count: 8))
      #expect(Set(ranges.flatMap { Array($0) }) == Set(1...16))
      #expect(try await log.audit(ticket: "T-8").isEmpty)
    }
  }

  @Test func aCancelledTasksRecordStillFinishesWhole() async throws {
    let log = try PartnerSyncLog.inMemory()
    let task = Task {
      withUnsafeCurrentTask { $0?.cancel() }
      return try await log.record(Self.history)
    }
    let result = try await task.value
    #expect(task.isCancelled)
    #expect(result.count == 4)
    #expect(try log.lastPosition() == 4)
  }
}

/// A fresh log path in a folder of its own, removed afterwards (for synchronous tests).
func withTemporaryPath<T>(_ body: (String) throws -> T) throws -> T {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sync-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: dir) }
  return try body(dir.appendingPathComponent("log.sqlite").path)
}
