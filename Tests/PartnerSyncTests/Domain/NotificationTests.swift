import Testing

@testable import PartnerSync
@testable import PartnerSyncDomain

/// `outsourcing-notifies-primary-contact`, `synced-change-notifies-partner`,
/// `subcontractor-time-notifies-resource`.
@Suite("Notifications")
struct NotificationTests {
  static func notes(_ t: Ticket, at position: Int64) -> [String] {
    t.projection.notifications.filter { $0.position == position }.map(\.brief)
  }

  static let primary = "outsourcing-notifies-primary-contact"
  static let synced = "synced-change-notifies-partner"
  static let time = "subcontractor-time-notifies-resource"

  @Test("outsourcing-notifies-primary-contact: the other partner; both, lead first, at the end")
  func statusNotifications() throws {
    let t = try Ticket([
      ev.outsourced("bolt"), ev.cancelled(),
      ev.outsourced("bolt"), ev.declined(),
      ev.outsourced("bolt"), ev.accepted(), ev.requested(), ev.rejected(), ev.requested(),
      ev.approved(),
      ev.outsourced("crane"), ev.accepted(by: "crane"), ev.completed(),
    ])
    let p = Self.primary
    #expect(
      t.projection.notifications.map(\.brief) == [
        "1 \(p) bolt/primary-contact", "2 \(p) bolt/primary-contact",
        "3 \(p) bolt/primary-contact", "4 \(p) acme/primary-contact",
        "5 \(p) bolt/primary-contact", "6 \(p) acme/primary-contact",
        "7 \(p) acme/primary-contact", "8 \(p) bolt/primary-contact",
        "9 \(p) acme/primary-contact", "10 \(p) acme/primary-contact",
        "10 \(p) bolt/primary-contact", "11 \(p) crane/primary-contact",
        "12 \(p) acme/primary-contact", "13 \(p) acme/primary-contact",
        "13 \(p) crane/primary-contact",
      ])
    #expect(t.projection.notifications.allSatisfy { $0.entry == nil && $0.ticket == "T-1" })
  }

  @Test("outsourcing-notifies-primary-contact: not for the implicit move to in-progress")
  func noNotificationForInProgress() throws {
    let t = try Ticket([ev.outsourced("bolt"), ev.accepted(), ev.added("n1", by: "bolt", .note)])
    #expect(t.status() == .inProgress)
    #expect(Self.notes(t, at: 3) == ["3 \(Self.synced) acme/ticket n1"])
  }

  @Test("synced-change-notifies-partner: each own-change-syncs decision notifies C's ticket")
  func syncedChangeNotifies() throws {
    let t = try Ticket([
      ev.added("n0", by: "acme", .note),
      ev.outsourced("bolt"), ev.accepted(),
      ev.added("n1", by: "acme", .note), ev.edited("n1", by: "acme", text: "x"),
      ev.added("n2", by: "bolt", .note, visibility: .internal),
      ev.edited("n1", by: "bolt", text: "y"),
      ev.deleted("n1", by: "acme"),
      ev.added("c1", by: "bolt", .charge),
    ])
    // Copied-at-acceptance, not-synced and severed decisions do not notify.
    #expect(
      t.projection.notifications.filter { $0.rule == .syncedChangeNotifiesPartner }.map(\.brief)
        == [
          "4 \(Self.synced) bolt/ticket n1", "5 \(Self.synced) bolt/ticket n1",
          "9 \(Self.synced) acme/ticket c1",
        ])
  }

  @Test("order at one position: the status notification first, then one per decision")
  func orderAtRejection() throws {
    var t = try Ticket([
      ev.outsourced("bolt", resource: "dana"), ev.accepted(), ev.requested(),
      ev.added("n2", by: "bolt", .note), ev.added("n3", by: "acme", .note),
      ev.added("t4", by: "bolt", .time, hours: 1),
    ])
    try t.run(ev.rejected())
    #expect(
      Self.notes(t, at: 7) == [
        "7 \(Self.primary) bolt/primary-contact",
        "7 \(Self.synced) acme/ticket n2",
        "7 \(Self.synced) bolt/ticket n3",
        "7 \(Self.synced) acme/ticket t4",
      ])
    // The time notice went out where bolt added t4, while sync was suspended.
    #expect(Self.notes(t, at: 6) == ["6 \(Self.time) acme/dana t4"])
  }

  @Test("order at acceptance: the status notification; copied-at-acceptance sends none")
  func orderAtAcceptance() throws {
    let t = try Ticket([
      ev.added("n1", by: "acme", .note), ev.added("t1", by: "acme", .time, hours: 1),
      ev.outsourced("bolt"), ev.accepted(),
    ])
    #expect(t.audit(at: 4).count == 2)
    #expect(Self.notes(t, at: 4) == ["4 \(Self.primary) acme/primary-contact"])
  }

  @Test("order at one position: approval notifies both partners and nothing for dropped changes")
  func orderAtApproval() throws {
    var t = try Ticket([
      ev.outsourced("bolt"), ev.accepted(), ev.added("t1", by: "bolt", .time, hours: 1),
      ev.requested(), ev.added("n2", by: "bolt", .note),
    ])
    try t.run(ev.approved())
    #expect(
      Self.notes(t, at: 6) == [
        "6 \(Self.primary) acme/primary-contact", "6 \(Self.primary) bolt/primary-contact",
      ])
  }

  @Test(
    "subcontractor-time-notifies-resource: to the engagement's resource, or assigned-resource",
    arguments: [("dana", "dana"), (nil, "assigned-resource")] as [(String?, String)])
  func timeNotifiesResource(resource: String?, expected: String) throws {
    let t = try Ticket([
      ev.outsourced("bolt", resource: resource), ev.accepted(),
      ev.added("t1", by: "bolt", .time, hours: 1), ev.added("t0", by: "acme", .time, hours: 1),
    ])
    #expect(
      Self.notes(t, at: 3) == ["3 \(Self.synced) acme/ticket t1", "3 \(Self.time) acme/\(expected) t1"])
    #expect(Self.notes(t, at: 4) == ["4 \(Self.synced) bolt/ticket t0"])
  }

  @Test("subcontractor-time-notifies-resource: once per entry, where it is added; edits and releases send none")
  func timeNotifiedOnce() throws {
    var t = try Ticket([
      ev.outsourced("bolt", resource: "dana"), ev.accepted(),
      ev.added("t1", by: "bolt", .time, hours: 1), ev.edited("t1", by: "bolt", hours: 2),
      ev.requested(), ev.added("t2", by: "bolt", .time, hours: 1),
      ev.edited("t2", by: "bolt", hours: 3), ev.rejected(),
      ev.edited("t1", by: "bolt", hours: 4), ev.edited("t2", by: "bolt", hours: 5),
    ])
    try t.run(ev.completed())
    let timeNotes = t.projection.notifications.filter { $0.rule == .subcontractorTimeNotifiesResource }
    #expect(timeNotes.map(\.brief) == ["3 \(Self.time) acme/dana t1", "6 \(Self.time) acme/dana t2"])
    #expect(try t.entry("bundle-1", of: "acme")?.content.hours == 9)
  }

  @Test("subcontractor-time-notifies-resource: a time entry held then dropped notifies where it was added")
  func heldThenDroppedStillNotifies() throws {
    let t = try Ticket([
      ev.outsourced("bolt", resource: "dana"), ev.accepted(), ev.requested(),
      ev.added("t1", by: "bolt", .time, hours: 1), ev.approved(),
      ev.edited("t1", by: "bolt", hours: 2), ev.added("t2", by: "bolt", .time, hours: 1),
    ])
    // Once at the add position, nothing at the drop; nothing after completion (sync-ended).
    #expect(
      t.projection.notifications.filter { $0.rule != .outsourcingNotifiesPrimaryContact }.map(\.brief) == [
        "4 \(Self.time) acme/dana t1"
      ])
    #expect(
      t.audit("t1") == [
        "4 t1 bolt>acme held suspended-waiting-approval", "5 t1 bolt>acme dropped dropped-at-completion heldAt:4",
        "6 t1 bolt>acme not-synced sync-ended",
      ])
    #expect(try t.ids("acme") == [])
  }

  @Test(
    "subcontractor-time-notifies-resource: the lead's time, a foreign edit and a time entry of a former partner send none"
  )
  func onlyTheCurrentPartnersNewTime() throws {
    let t = try Ticket([
      ev.outsourced("bolt", resource: "dana"), ev.accepted(), ev.added("t1", by: "acme", .time, hours: 1),
      ev.edited("t1", by: "bolt", text: "x"), ev.completed(), ev.added("t2", by: "bolt", .time, hours: 1),
      ev.outsourced("crane", resource: "eve"), ev.accepted(by: "crane"), ev.added("t3", by: "bolt", .time, hours: 1),
    ])
    #expect(!t.projection.notifications.contains { $0.rule == .subcontractorTimeNotifiesResource })
  }

  @Test("subcontractor-time-notifies-resource: a later engagement notifies its own resource")
  func laterEngagementResource() throws {
    let t = try Ticket([
      ev.outsourced("bolt", resource: "dana"), ev.declined(),
      ev.outsourced("crane", resource: "eve"), ev.accepted(by: "crane"),
      ev.added("t1", by: "crane", .time, hours: 1),
    ])
    #expect(Self.notes(t, at: 5) == ["5 \(Self.synced) acme/ticket t1", "5 \(Self.time) acme/eve t1"])
  }
}
