import Foundation
import Testing

@testable import PartnerSync
@testable import PartnerSyncDomain

/// `deliver` and `forEachEvent` as an embedding program calls them.
@Suite("Delivery and walks of the log")
struct DeliverTests {
  static let ev = EventBuilder()

  @Test("deliver with a page size under 1 reads a notification at a time and returns", arguments: [0, -1])
  func pageSizeUnderOne(_ pageSize: Int) throws {
    let directory = try TemporaryDirectory()
    let log = try PartnerSyncLog.inMemory()
    try log.record([Self.ev.outsourced("bolt"), Self.ev.accepted()], now: Ticket.start)
    try log.record(
      (0..<5).map { Self.ev.added("n\($0)", by: "acme", .note, text: "note \($0)") }, now: Ticket.start)
    let all = try log.outbox(limit: 100)
    var sent: [String] = []
    let delivered = try log.deliver(
      checkpoint: DeliveryCheckpoint(path: directory.path("checkpoint")), pageSize: pageSize
    ) { sent.append($0.id) }
    #expect(delivered == all.count && sent == all.map(\.id))
  }

  @Test("an event a variant rule set refuses ends forEachEvent with invalidEvent and its position")
  func refusedEventInAWalk() throws {
    let log = try PartnerSyncLog.inMemory()
    // acme's note n1 exists when bolt accepts: copied at acceptance, bolt may edit its copy.
    try log.record(
      [
        Self.ev.outsourced("bolt"), Self.ev.added("n1", by: "acme", .note, text: "x"), Self.ev.accepted(),
        Self.ev.edited("n1", by: "bolt", text: "y"),
      ], now: Ticket.start)
    // Without copies at acceptance, bolt holds no n1 to edit: the edit at position 4 is refused.
    var rules = RuleSet.standard
    rules.copyAtAcceptance = false
    var projection = TicketProjection(ticket: "T-1", rules: rules)
    do throws(PartnerSyncError) {
      try log.forEachEvent(ticket: "T-1") { try projection.apply($0) }
      Issue.record("the variant refused nothing")
    } catch {
      #expect(error.code == .invalidEvent, "\(error)")
      #expect(error.message.hasPrefix("the event at position 4 is refused: "), "\(error.message)")
    }
    struct Mine: Error {}
    do throws(PartnerSyncError) {
      try log.forEachEvent { _ in throw Mine() }
      Issue.record("the walk went on past the body's error")
    } catch {
      #expect(error.code == .storage && error.message == "Mine()")
    }
  }
}
