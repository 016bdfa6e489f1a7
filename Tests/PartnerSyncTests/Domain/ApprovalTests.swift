import Testing

@testable import PartnerSync
@testable import PartnerSyncDomain

/// `suspended-waiting-approval`, `released-on-rejection`, `dropped-at-completion`, `sync-ended`.
@Suite("Approval: held, released, dropped, ended")
struct ApprovalTests {
  /// Engagement 1 waiting for approval (position 5), with n1 (bolt's) and n3 (acme's) shared.
  static func waiting() throws -> Ticket {
    try Ticket([
      ev.outsourced("bolt", resource: "dana"), ev.accepted(),
      ev.added("n1", by: "bolt", .note, text: "Work done"),
      ev.added("n3", by: "acme", .note, text: "Details"),
      ev.requested(),
    ])
  }

  @Test("suspended-waiting-approval: every change that could cross is held, from both sides")
  func suspended() throws {
    var t = try Self.waiting()
    try t.run(
      ev.added("n2", by: "bolt", .note, text: "Photo attached"),
      ev.added("t2", by: "bolt", .time, hours: 2),
      ev.added("n4", by: "acme", .note, text: "Please add a photo"),
      ev.edited("n3", by: "acme", text: "Details v2"),
      ev.edited("n2", by: "bolt", text: "Photo attached (2)"))
    #expect(t.status() == .waitingApproval)
    #expect(
      t.projection.decisions.filter { $0.position > 5 }.map(\.brief) == [
        "6 n2 bolt>acme held suspended-waiting-approval",
        "7 t2 bolt>acme held suspended-waiting-approval",
        "8 n4 acme>bolt held suspended-waiting-approval",
        "9 n3 acme>bolt held suspended-waiting-approval",
        "10 n2 bolt>acme held suspended-waiting-approval",
      ])
    #expect(try t.ids("acme") == ["n1", "n3", "n4"])
    #expect(try t.ids("bolt") == ["n1", "n3", "n2", "t2"])
    #expect(try t.entry("n3", of: "bolt")?.content.text == "Details")
    // Nothing is announced while held, but for the time notice where bolt added t2.
    #expect(
      t.projection.notifications.filter { $0.position > 5 }.map(\.brief) == [
        "7 subcontractor-time-notifies-resource acme/dana t2"
      ])
  }

  @Test("suspended-waiting-approval: a change that would withdraw a copy is held too")
  func withdrawalHeld() throws {
    var t = try Self.waiting()
    try t.run(ev.edited("n3", by: "acme", visibility: .internal))
    #expect(t.audit(at: 6) == ["6 n3 acme>bolt held suspended-waiting-approval"])
    #expect(try t.ids("bolt") == ["n1", "n3"])
    try t.run(ev.deleted("n3", by: "acme"))
    #expect(t.audit(at: 7) == ["7 n3 acme>bolt held suspended-waiting-approval"])
    #expect(try t.ids("bolt") == ["n1", "n3"])
    try t.run(ev.rejected())
    // n3 is internal (and deleted) at the rejection: each held change is decided by the filter,
    // the copy is withdrawn, and bolt is not told.
    #expect(
      t.audit(at: 8) == [
        "8 n3 acme>bolt not-synced internal-never-syncs heldAt:6",
        "8 n3 acme>bolt not-synced internal-never-syncs heldAt:7",
      ])
    #expect(try t.ids("bolt") == ["n1"])
    #expect(!t.projection.notifications.contains { $0.entry == "n3" && $0.position == 8 })
  }

  @Test("released-on-rejection: a partner's note made internal while held is not released, and its copy withdrawn")
  func heldThenInternalOnRejection() throws {
    var t = try Self.waiting()
    try t.run(
      ev.added("n5", by: "bolt", .note, text: "draft"), ev.edited("n5", by: "bolt", visibility: .internal),
      ev.rejected())
    #expect(
      t.audit("n5") == [
        "6 n5 bolt>acme held suspended-waiting-approval", "7 n5 bolt>acme held suspended-waiting-approval",
        "8 n5 bolt>acme not-synced internal-never-syncs heldAt:6",
        "8 n5 bolt>acme not-synced internal-never-syncs heldAt:7",
      ])
    #expect(try t.ids("acme").contains("n5") == false)
    #expect(!t.projection.notifications.contains { $0.entry == "n5" })
    let last = try #require(t.projection.decisions.last)
    #expect(
      last.because
        == "The completion of engagement 1 was rejected, but the change to bolt's note n5 held at position 7 was not released: it is internal, and internal entries never leave their partner, so acme's version holds no copy of it."
    )
  }

  @Test("suspended-waiting-approval: what fails a filter and has no copy is decided by the filter")
  func filteredWhileWaiting() throws {
    var t = try Self.waiting()
    try t.run(
      ev.added("n5", by: "acme", .note, visibility: .internal),
      ev.added("a5", by: "bolt", .attachment, type: .url),
      ev.added("c5", by: "acme", .charge))
    #expect(
      t.projection.decisions.filter { $0.position > 5 }.map(\.brief) == [
        "6 n5 acme>bolt not-synced internal-never-syncs",
        "7 a5 bolt>acme not-synced links-never-sync",
        "8 c5 acme>bolt not-synced lead-charges-stay-local",
      ])
    // Made shareable while waiting: now held.
    try t.run(ev.edited("n5", by: "acme", visibility: .public))
    #expect(t.audit(at: 9) == ["9 n5 acme>bolt held suspended-waiting-approval"])
    // Made internal again: a held change exists, so it is held as well.
    try t.run(ev.edited("n5", by: "acme", visibility: .internal))
    #expect(t.audit(at: 10) == ["10 n5 acme>bolt held suspended-waiting-approval"])
    try t.run(ev.rejected())
    #expect(try t.ids("bolt") == ["n1", "n3", "a5"])
    #expect(try t.ids("acme") == ["n1", "n3", "n5", "c5"])
  }

  @Test("released-on-rejection: in held order, latest state, filtered and transformed")
  func releasedOnRejection() throws {
    var t = try Self.waiting()
    try t.run(
      ev.added("n2", by: "bolt", .note, text: "Photo attached"),
      ev.added("t4", by: "acme", .time, hours: 0.5, text: "call"),
      ev.edited("n2", by: "bolt", text: "Photo attached (2)"),
      ev.added("n6", by: "bolt", .note),
      ev.deleted("n6", by: "bolt"),
      ev.rejected())
    #expect(t.status() == .inProgress)
    #expect(
      t.audit(at: 11) == [
        "11 n2 bolt>acme released released-on-rejection [partner-items-internal-users-only] heldAt:6",
        "11 t4 acme>bolt released released-on-rejection [lead-time-as-note] heldAt:7",
        "11 n2 bolt>acme released released-on-rejection [partner-items-internal-users-only] heldAt:8",
        "11 n6 bolt>acme released released-on-rejection heldAt:9",
        "11 n6 bolt>acme released released-on-rejection heldAt:10",
      ])
    #expect(try t.ids("acme") == ["n1", "n3", "t4", "n2"])
    #expect(try t.ids("bolt") == ["n1", "n3", "n2", "t4"])
    let n2 = try #require(try t.entry("n2", of: "acme"))
    #expect(n2.content.text == "Photo attached (2)" && n2.content.visibility == .internalUsersOnly)
    #expect(try t.entry("t4", of: "bolt")?.convertedFrom == .time)
    // Sync is active again afterwards.
    try t.run(ev.edited("n2", by: "bolt", title: "Photo"))
    #expect(
      t.audit(at: 12) == ["12 n2 bolt>acme synced own-change-syncs [partner-items-internal-users-only]"])
  }

  @Test(
    "dropped-at-completion: every held change is discarded, in held order",
    arguments: [EventType.completionApproved, .completed])
  func droppedAtCompletion(end: EventType) throws {
    var t = try Self.waiting()
    try t.run(
      ev.added("n2", by: "bolt", .note, text: "Photo attached"),
      ev.added("t2", by: "bolt", .time, hours: 2),
      ev.edited("n3", by: "acme", text: "withdrawn soon", visibility: .internal),
      ev.status(end, by: "acme"))
    #expect(t.status() == .complete)
    #expect(
      t.audit(at: 9) == [
        "9 n2 bolt>acme dropped dropped-at-completion heldAt:6",
        "9 t2 bolt>acme dropped dropped-at-completion heldAt:7",
        "9 n3 acme>bolt dropped dropped-at-completion heldAt:8",
      ])
    #expect(try t.ids("acme") == ["n1", "n3"])
    #expect(try t.ids("bolt") == ["n1", "n3", "n2", "t2"])
    // The dropped withdrawal leaves bolt's copy as it was when sync was suspended.
    #expect(try t.entry("n3", of: "bolt")?.content.text == "Details")
    #expect(try t.entry("n3", of: "bolt")?.content.visibility == .public)
  }

  @Test("sync-ended: after completion nothing crosses, and nothing is severed")
  func syncEndedAfterCompletion() throws {
    var t = try Self.waiting()
    try t.run(ev.approved())
    try t.run(
      ev.added("n4", by: "bolt", .note, text: "Invoice sent"),
      ev.edited("n3", by: "acme", text: "Thanks"),
      ev.edited("n1", by: "acme", text: "lead edits bolt's note"),
      ev.edited("n3", by: "bolt", text: "bolt edits acme's note"),
      ev.deleted("n1", by: "bolt"))
    #expect(
      t.projection.decisions.filter { $0.position > 6 }.map(\.brief) == [
        "7 n4 bolt>acme not-synced sync-ended",
        "8 n3 acme>bolt not-synced sync-ended",
        "9 n1 acme>bolt not-synced sync-ended",
        "10 n3 bolt>acme not-synced sync-ended",
        "11 n1 bolt>acme not-synced sync-ended",
      ])
    #expect(try t.view("acme").entries.allSatisfy { !$0.severed })
    #expect(try t.view("bolt").entries.allSatisfy { !$0.severed })
    #expect(try t.ids("bolt") == ["n3", "n4"])
    #expect(try t.ids("acme") == ["n1", "n3"])
    #expect(t.status() == .complete)
  }

  @Test("sync-ended: an old engagement's partner after a new engagement started")
  func syncEndedForOldEngagement() throws {
    var t = try Self.waiting()
    try t.run(ev.approved(), ev.outsourced("crane"))
    // While the new engagement is only assigned, the lead's own changes have no counterpart.
    try t.run(ev.edited("n3", by: "acme", text: "v2"))
    #expect(t.audit(at: 8) == [])
    try t.run(
      ev.accepted(by: "crane"),
      ev.edited("n1", by: "bolt", text: "late"),
      ev.edited("n1", by: "acme", text: "lead's"),
      ev.edited("n3", by: "acme", text: "v3"))
    #expect(t.audit(at: 10) == ["10 n1 bolt>acme not-synced sync-ended"])
    #expect(t.audit(at: 11) == ["11 n1 acme>bolt not-synced sync-ended"])
    #expect(t.audit(at: 12) == ["12 n3 acme>crane synced own-change-syncs"])
    #expect(try t.entry("n1", of: "acme")?.severed == false)
    #expect(try t.entry("n3", of: "bolt", engagement: 1)?.content.text == "Details")
    #expect(try t.entry("n3", of: "crane")?.content.text == "v3")
    #expect(try t.view("bolt").engagement == 1)
  }
}
