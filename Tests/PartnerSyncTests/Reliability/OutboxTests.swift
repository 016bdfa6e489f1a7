import EventLog
import Foundation
import Testing

@testable import PartnerSync
@testable import PartnerSyncDomain

/// The stored outbox: written with the events that send it, read a page at a time after a cursor,
/// checked by `verify`, rebuilt by `rebuildOutbox`, and filled when an older log is upgraded.
@Suite("Stored outbox")
struct OutboxTests {
  /// A log of several random tickets on shared partners, recorded in random batches.
  static func randomLog(seed: UInt64, path: String? = nil) throws -> PartnerSyncLog {
    var rng = SplitMix64(seed: seed)
    let plans = try (0..<4).map { try IsolationPropertyTests.plan(ticket: "T-\($0)", seed: seed &* 31 &+ UInt64($0)) }
    let events = IsolationPropertyTests.interleave(plans, using: &rng)
    let log = try path.map { try PartnerSyncLog.open(path: $0, create: true) } ?? PartnerSyncLog.inMemory()
    var next = 0
    while next < events.count {
      let size = Int.random(in: 1...6, using: &rng)
      _ = try log.record(Array(events[next..<min(next + size, events.count)]), now: .now())
      next += size
    }
    return log
  }

  /// Every notification the events send, with its cursor, in cursor order, from the projections,
  /// each as its recipient reads it.
  static func implied(_ log: PartnerSyncLog) throws -> [OutboxNotification] {
    var all: [OutboxNotification] = []
    for ticket in try log.tickets() {
      let projection = try #require(try log.projection(ticket: ticket))
      var index = 0
      for (offset, notification) in projection.notifications.enumerated() {
        let samePosition = offset > 0 && projection.notifications[offset - 1].position == notification.position
        index = samePosition ? index + 1 : 0
        all.append(
          OutboxNotification(
            cursor: OutboxCursor(position: notification.position, index: index), notification: notification.delivered))
      }
    }
    return all.sorted { $0.cursor < $1.cursor }
  }

  /// Reads the whole outbox in pages of `size`.
  static func paged(_ log: PartnerSyncLog, size: Int, as partner: String? = nil) throws -> [OutboxNotification] {
    var all: [OutboxNotification] = []
    var cursor = OutboxCursor.start
    while true {
      let page = try log.outbox(after: cursor, limit: size, as: partner)
      #expect(page.count <= size)
      all += page
      guard let last = page.last else { return all }
      cursor = last.cursor
    }
  }

  @Test("each write stores the notifications its events send, in the same transaction", arguments: 0..<12)
  func storedEqualsImplied(seed: UInt64) throws {
    let log = try Self.randomLog(seed: seed)
    let implied = try Self.implied(log)
    #expect(!implied.isEmpty)
    for size in [1, 7, 100] {
      let paged = try Self.paged(log, size: size)
      #expect(paged == implied)
    }
    #expect(Set(implied.map(\.id)).count == implied.count)
    for partner in IsolationPropertyTests.pool {
      let addressed = implied.filter { $0.notification.partner == partner }
      #expect(try Self.paged(log, size: 5, as: partner) == addressed)
      #expect(try log.notifications(as: partner) == addressed.map(\.notification))
    }
    // The log owner's list (folded from the history) may say more than the recipient reads.
    #expect(try log.notifications().map(\.delivered) == implied.map(\.notification))
    #expect(try log.verify().isHealthy)
  }

  @Test("a page after a cursor starts right after it, also between two notifications of one event")
  func cursorsSplitAPosition() throws {
    let log = try Self.randomLog(seed: 3)
    let all = try Self.paged(log, size: 1000)
    let shared = try #require(
      all.indices.dropFirst().first { all[$0].cursor.position == all[$0 - 1].cursor.position })
    #expect(try log.outbox(after: all[shared - 1].cursor, limit: 1) == [all[shared]])
    #expect(all[shared].cursor.index == all[shared - 1].cursor.index + 1)
    #expect(OutboxCursor(all[shared].id) == all[shared].cursor)
    #expect(try log.outbox(after: all.last!.cursor).isEmpty)
    #expect(try log.outbox(limit: 0).isEmpty)
  }

  @Test("cursor text: position-index, nothing else")
  func cursorText() {
    #expect(OutboxCursor("12-0") == OutboxCursor(position: 12, index: 0))
    #expect(OutboxCursor("0-0") == .start)
    for bad in ["", "12", "12-", "-1-0", "12-0-1", "a-0", "+1-0", "1-+0", "١-0"] {
      #expect(OutboxCursor(bad) == nil, "\(bad)")
    }
  }

  @Test("a write the rules refuse leaves no notification behind")
  func refusedWriteStoresNothing() throws {
    let log = try Self.randomLog(seed: 5)
    let before = try Self.paged(log, size: 100)
    let ticket = try log.tickets()[0]
    let lead = try #require(try log.projection(ticket: ticket)?.lead)
    let fine = TicketEvent(
      ticket: ticket, by: lead, at: nil, .entryAdded(entry: "late-n", content: EntryContent(kind: .note, text: "x")))
    let refused = TicketEvent(ticket: ticket, by: "nobody-here", at: nil, .entryDeleted(entry: "late-n"))
    #expect(throws: PartnerSyncError.self) { try log.record([fine, refused], now: .now()) }
    #expect(try Self.paged(log, size: 100) == before)
  }

  @Test("verify reports a changed, a missing and an extra outbox row; a rebuild repairs them")
  func verifyAndRebuild() throws {
    let directory = try TemporaryDirectory()
    let path = directory.path("log.sqlite")
    let log = try Self.randomLog(seed: 9, path: path)
    let all = try Self.paged(log, size: 1000)
    let target = all[all.count / 2].cursor
    let tampering = [
      "UPDATE outbox SET data = replace(data, 'T-', 'X-') WHERE position = \(target.position) AND seq = \(target.index)",
      "DELETE FROM outbox WHERE position = \(target.position) AND seq = \(target.index)",
      "INSERT INTO outbox VALUES (\(target.position), 99, 'zed', '{}')",
    ]
    for (sql, word) in zip(tampering, ["differs", "lacks", "do not send"]) {
      try sqlite3(path, sql)
      let report = try PartnerSyncLog.open(path: path, readOnly: true).verify()
      #expect(report.firstBadPosition == target.position)
      #expect(report.derivedOnly)
      #expect(report.problem?.contains(word) == true, "\(report.problem ?? "")")
      try PartnerSyncLog.open(path: path).rebuildOutbox()
      #expect(try PartnerSyncLog.open(path: path, readOnly: true).verify().isHealthy)
      #expect(try Self.paged(PartnerSyncLog.open(path: path, readOnly: true), size: 50) == all)
    }
  }

  @Test("an older log without an outbox is read as it is, and filled when first opened for writing")
  func olderLogIsFilled() throws {
    let directory = try TemporaryDirectory()
    let path = directory.path("old.sqlite")
    let all = try Self.paged(try Self.randomLog(seed: 11, path: path), size: 1000)
    // The log as the version before the outbox wrote it.
    try sqlite3(
      path, "DROP TABLE outbox; DROP TABLE outbox_filling; PRAGMA user_version = 1")

    let readOnly = try PartnerSyncLog.open(path: path, readOnly: true)
    #expect(try readOnly.notifications().map(\.delivered) == all.map(\.notification))
    #expect(try readOnly.verify().isHealthy)
    do {
      _ = try readOnly.outbox()
      Issue.record("the outbox of an unfilled log was read")
    } catch {
      #expect(error.code == .unusableLog)
      #expect(error.message.contains("replay --rebuild-outbox"))
    }

    let upgraded = try PartnerSyncLog.open(path: path)
    #expect(try Self.paged(upgraded, size: 64) == all)
    #expect(try upgraded.verify().isHealthy)
    #expect(try sqlite3(path, "PRAGMA user_version") == "2")
  }

  @Test("an outbox rebuild that did not finish is started again when the log is next opened for writing")
  func unfinishedRebuildIsRedone() throws {
    let directory = try TemporaryDirectory()
    let path = directory.path("log.sqlite")
    let all = try Self.paged(try Self.randomLog(seed: 13, path: path), size: 1000)
    try sqlite3(path, "DELETE FROM outbox WHERE position > 10; INSERT INTO outbox_filling VALUES (1000)")
    #expect(throws: PartnerSyncError.self) { try PartnerSyncLog.open(path: path, readOnly: true).outbox() }
    #expect(try Self.paged(PartnerSyncLog.open(path: path), size: 1000) == all)
  }
}

/// Runs `sql` on the database at `path` with the `sqlite3` shell, returning what it prints.
@discardableResult
func sqlite3(_ path: String, _ sql: String) throws -> String {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
  process.arguments = ["sqlite3", path, sql]
  let pipe = Pipe()
  process.standardOutput = pipe
  try process.run()
  let output = pipe.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  guard process.terminationStatus == 0 else {
    throw PartnerSyncError(.storage, "sqlite3 failed on: \(sql)")
  }
  return String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}

/// A folder of its own under the temporary directory, removed with the value.
final class TemporaryDirectory {
  let url: URL

  init() throws {
    url = FileManager.default.temporaryDirectory.appendingPathComponent("partnersync-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }

  deinit { try? FileManager.default.removeItem(at: url) }

  /// The path of `name` in the folder.
  func path(_ name: String) -> String { url.appendingPathComponent(name).path }
}
