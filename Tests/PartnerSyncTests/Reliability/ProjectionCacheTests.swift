import Foundation
import Testing

@testable import PartnerSync
@testable import PartnerSyncDomain

/// The projections a log keeps of the tickets it wrote: which it keeps, and that a stale one
/// never leads to a wrong write.
@Suite struct ProjectionCacheTests {
  /// The projection of `ticket` after `count` events (outsourced, accepted, notes), its last
  /// event at `position`.
  static func projection(_ ticket: String, position: Int64) throws -> TicketProjection {
    var projection = TicketProjection(ticket: ticket)
    try projection.apply(
      RecordedEvent(
        position: position, version: 1, at: Ticket.start,
        event: TicketEvent(ticket: ticket, by: "acme", .outsourced(Outsourcing(partner: "bolt")))))
    return projection
  }

  @Test func aBatchLargerThanTheCacheKeepsTheTicketsWrittenLast() throws {
    let cache = ProjectionCache(capacity: 3)
    let positions: [Int64] = [5, 1, 9, 3, 7]
    cache.store(try positions.map { try Self.projection("T-\($0)", position: $0) })
    for position in positions {
      let kept = cache.take("T-\(position)")
      #expect((kept != nil) == (position >= 5), "T-\(position)")
      #expect(kept.map(\.position) == (position >= 5 ? position : nil))
    }
  }

  @Test func takingRemovesAndTheLeastRecentlyStoredGoesFirst() throws {
    let cache = ProjectionCache(capacity: 2)
    cache.store([try Self.projection("T-1", position: 1)])
    cache.store([try Self.projection("T-2", position: 2)])
    cache.store([try Self.projection("T-1", position: 3)])  // T-1 used again: T-2 is now the oldest
    cache.store([try Self.projection("T-3", position: 4)])
    #expect(cache.take("T-2") == nil)
    #expect(cache.take("T-1")?.position == 3)
    #expect(cache.take("T-1") == nil, "take removes")
    #expect(cache.take("T-3")?.position == 4)
    cache.store([try Self.projection("T-4", position: 5)])
    cache.remove(["T-4"])
    #expect(cache.take("T-4") == nil)
  }

  /// Runs `body` with two logs open on one new file, in which the first log outsourced ticket T-1
  /// to bolt and bolt accepted it; removes the file afterwards.
  static func withTwoLogs(_ body: (PartnerSyncLog, PartnerSyncLog, String) throws -> Void) throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cache-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("log.sqlite").path
    let first = try PartnerSyncLog.open(path: path, create: true)
    try first.record(
      [event("acme", .outsourced(Outsourcing(partner: "bolt"))), event("bolt", .accepted)], now: Ticket.start)
    try body(first, try PartnerSyncLog.open(path: path), path)
  }

  static func event(_ by: String, _ payload: EventPayload) -> TicketEvent {
    TicketEvent(ticket: "T-1", by: by, payload)
  }

  static let note = event("bolt", .entryAdded(entry: "n1", content: EntryContent(kind: .note, text: "from bolt")))

  @Test("a log whose cached projection went stale (another writer appended) still writes correctly")
  func staleProjectionIsRefreshed() throws {
    try Self.withTwoLogs { first, second, path in
      // The second log adds a note; the first log's cached projection does not know it.
      try second.record([Self.note], now: Ticket.start)
      // Editing that note through the first log needs the note: the stale projection would refuse it.
      let result = try first.record(
        [Self.event("bolt", .entryEdited(entry: "n1", changes: EntryContent(text: "edited")))], now: Ticket.start)
      #expect(result.firstPosition == 4)
      #expect(result.decisions.map(\.rule) == [.ownChangeSyncs])
      let folded = try #require(try PartnerSyncLog.open(path: path).projection(ticket: "T-1"))
      #expect(folded.version == 4)
      let lead = try first.view(ticket: "T-1", as: "acme")
      #expect(lead.entries.first { $0.id == "n1" }?.content.text == "edited")
    }
  }

  @Test("a read takes a written ticket's projection from memory only while the log holds nothing later")
  func readsSeeAnotherWritersEvents() throws {
    try Self.withTwoLogs { first, second, path in
      let remembered = try #require(try first.projection(ticket: "T-1"))
      let folded = try #require(try PartnerSyncLog.open(path: path).projection(ticket: "T-1"))
      #expect(remembered.version == 2)
      #expect(try remembered.view(of: "bolt") == folded.view(of: "bolt"))
      // A point before the remembered projection's last event is folded from the log.
      #expect(try first.projection(ticket: "T-1", through: 1)?.version == 1)
      // Another writer's note: the first log's reads see it.
      try second.record([Self.note], now: Ticket.start)
      #expect(try first.projection(ticket: "T-1")?.version == 3)
      #expect(try first.view(ticket: "T-1", as: "bolt").entries.map(\.id) == ["n1"])
    }
  }

  @Test("a log that only reads keeps the latest projection it folded, and folds again after a write elsewhere")
  func readsKeepTheLatestProjection() throws {
    try Self.withTwoLogs { _, second, path in
      let reader = try PartnerSyncLog.open(path: path, readOnly: true)
      // A point in the past is not the latest: not kept.
      #expect(try reader.projection(ticket: "T-1", through: 1)?.version == 1)
      #expect(reader.projectionCache.peek("T-1") == nil)
      // The latest is kept, and the next read is that projection.
      #expect(try reader.view(ticket: "T-1", as: "bolt").entries.isEmpty)
      #expect(reader.projectionCache.peek("T-1")?.version == 2)
      // Another writer's note: the kept projection is behind the log, so the read folds again.
      try second.record([Self.note], now: Ticket.start)
      #expect(try reader.view(ticket: "T-1", as: "bolt").entries.map(\.id) == ["n1"])
      #expect(reader.projectionCache.peek("T-1")?.version == 3)
    }
  }
}
