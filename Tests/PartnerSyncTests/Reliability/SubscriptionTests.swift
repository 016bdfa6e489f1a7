import EventLog
import Foundation
import Synchronization
import Testing

@testable import PartnerSync
@testable import PartnerSyncDomain

/// Subscriptions: pulled a bounded page at a time however far behind the consumer is, resumed
/// from a cursor, fed by other writers, ended by cancellation, failing with `PartnerSyncError`.
@Suite("Subscriptions")
struct SubscriptionTests {
  static let ev = EventBuilder()

  /// A log (at `path`, or in memory) whose ticket T-1 is outsourced to bolt and accepted, then
  /// holds `notes` shared notes of acme's, each of which reaches bolt.
  static func log(notes: Int, path: String? = nil) throws -> PartnerSyncLog {
    let log = try path.map { try PartnerSyncLog.open(path: $0, create: true) } ?? PartnerSyncLog.inMemory()
    try log.record([ev.outsourced("bolt"), ev.accepted()], now: Ticket.start)
    let added = (0..<notes).map { ev.added("n\($0)", by: "acme", .note, text: "note \($0)") }
    try log.record(added, now: Ticket.start)
    return log
  }

  @Test("a consumer thousands of events behind: the subscription never holds more than its read-ahead")
  func boundedReadAhead() async throws {
    let log = try Self.log(notes: 3000)
    var events = log.events(readAhead: 64).makeAsyncIterator()
    var most = 0
    for position in Int64(1)...3002 {
      let event = try #require(try await events.next())
      #expect(event.position == position)
      most = max(most, events.buffered + 1)
    }
    #expect(most == 64)

    let total = try await log.outbox(limit: 10_000).count
    #expect(total >= 3000)
    var notifications = log.outboxNotifications(readAhead: 50).makeAsyncIterator()
    most = 0
    for _ in 0..<total {
      _ = try #require(try await notifications.next())
      most = max(most, notifications.buffered + 1)
    }
    #expect(most == 50)
  }

  @Test("a new subscription after the last cursor taken goes on where the first stopped")
  func resumesFromCursor() async throws {
    let log = try Self.log(notes: 300)
    var first = log.events(after: 0, readAhead: 32).makeAsyncIterator()
    for _ in 0..<100 { _ = try await first.next() }
    var resumed = log.events(after: 100).makeAsyncIterator()
    #expect(try await resumed.next()?.position == 101)

    let all = try await log.outbox(limit: 10_000, as: "bolt")
    var taken: [OutboxNotification] = []
    for try await item in log.outboxNotifications(as: "bolt", readAhead: 7) {
      taken.append(item)
      if taken.count == 40 { break }
    }
    var rest = log.outboxNotifications(after: try #require(taken.last).cursor, as: "bolt").makeAsyncIterator()
    while taken.count < all.count { taken.append(try #require(try await rest.next())) }
    #expect(taken == all)
    #expect(taken.allSatisfy { $0.notification.partner == "bolt" })
  }

  @Test("a caught-up subscription yields what another writer appends later")
  func followsOtherWriters() async throws {
    let directory = try TemporaryDirectory()
    let path = directory.path("log.sqlite")
    let log = try Self.log(notes: 3, path: path)
    let other = try await PartnerSyncLog.open(path: path)
    let waiting = Task {
      var events = log.events(after: 5, interval: .milliseconds(10)).makeAsyncIterator()
      let event = try await events.next()
      var notifications = log.outboxNotifications(
        after: OutboxCursor(position: 5, index: .max), as: "bolt", interval: .milliseconds(10)
      ).makeAsyncIterator()
      return (event, try await notifications.next())
    }
    try await Task.sleep(for: .milliseconds(50))
    try await other.record([Self.ev.added("late", by: "acme", .note, text: "late")], now: Ticket.start)
    let (event, notification) = try await waiting.value
    #expect(event?.position == 6)
    #expect(event?.event.payload.entry == "late")
    #expect(notification?.notification.position == 6)
    #expect(notification?.notification.entry == "late")
  }

  @Test("cancelling the consuming task ends the subscription without an error")
  func cancellationEnds() async throws {
    let log = try Self.log(notes: 2)
    let taken = Mutex(0)
    let consumer = Task { () throws(PartnerSyncError) -> Int in
      var count = 0
      for try await _ in log.events(after: 0, interval: .milliseconds(20)) {
        count += 1
        taken.withLock { $0 = count }
      }
      for try await _ in log.outboxNotifications() { count += 1 }
      return count
    }
    // Cancelled once it has taken the events already in the log (4), however busy the machine.
    let clock = ContinuousClock()
    let deadline = clock.now + .seconds(60)
    while taken.withLock({ $0 }) < 4, clock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
    try await Task.sleep(for: .milliseconds(50))  // now waiting for more
    consumer.cancel()
    // The wait for more ended with the task, and the second subscription yielded nothing.
    #expect(try await consumer.value == 4)
  }

  @Test("cancelled with elements read ahead, a subscription hands out none of them")
  func cancellationDropsWhatWasReadAhead() async throws {
    let log = try Self.log(notes: 20)
    let consumer = Task { () throws(PartnerSyncError) -> [Int64] in
      var taken: [Int64] = []
      for try await event in log.events(after: 0, readAhead: 256) {
        taken.append(event.position)
        // The whole log (22 events) is one page: the rest is read ahead when this one arrives.
        if taken.count == 1 { withUnsafeCurrentTask { $0?.cancel() } }
      }
      return taken
    }
    #expect(try await consumer.value == [1])
  }

  @Test("a log that cannot be read: the subscription throws PartnerSyncError")
  func throwsPartnerSyncError() async throws {
    let directory = try TemporaryDirectory()
    let path = directory.path("old.sqlite")
    _ = try Self.log(notes: 3, path: path)
    try sqlite3(path, "DROP TABLE outbox; DROP TABLE outbox_filling; PRAGMA user_version = 1")
    let log = try await PartnerSyncLog.open(path: path, readOnly: true)
    do throws(PartnerSyncError) {
      for try await _ in log.outboxNotifications() { Issue.record("read an outbox that is not filled") }
      Issue.record("the subscription ended without an error")
    } catch {
      #expect(error.code == .unusableLog)
    }
  }
}
