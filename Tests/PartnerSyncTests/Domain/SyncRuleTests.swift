import Testing

@testable import PartnerSync
@testable import PartnerSyncDomain

/// `own-change-syncs`, `copied-at-acceptance`, `lead-time-as-note`,
/// `partner-items-internal-users-only`.
@Suite("Sync rules: what crosses, and how")
struct SyncRuleTests {
  @Test("own-change-syncs: creation, edit and deletion of own entries follow, both ways")
  func ownChangeSyncs() throws {
    var t = try Ticket([ev.outsourced("bolt", resource: "dana"), ev.accepted()])
    try t.run(
      ev.added("n1", by: "acme", .note, title: "Intro", text: "v1"),
      ev.added("n2", by: "bolt", .note, text: "On my way"))
    #expect(t.status() == .inProgress)
    #expect(try t.ids("bolt") == ["n1", "n2"])
    #expect(try t.ids("acme") == ["n1", "n2"])
    let copy = try #require(try t.entry("n1", of: "bolt"))
    #expect(copy.isCopy && !copy.severed && copy.owner == "acme")
    #expect(copy.content == EntryContent(kind: .note, title: "Intro", text: "v1", visibility: .public))

    try t.run(ev.edited("n1", by: "acme", text: "v2"), ev.edited("n2", by: "bolt", title: "Later"))
    #expect(try t.entry("n1", of: "bolt")?.content.text == "v2")
    #expect(try t.entry("n1", of: "bolt")?.content.title == "Intro")
    #expect(try t.entry("n2", of: "acme")?.content.title == "Later")
    #expect(try t.entry("n2", of: "acme")?.content.text == "On my way")

    try t.run(ev.deleted("n1", by: "acme"), ev.deleted("n2", by: "bolt"))
    #expect(try t.ids("bolt") == [])
    #expect(try t.ids("acme") == [])
    #expect(
      t.audit("n1") == [
        "3 n1 acme>bolt synced own-change-syncs",
        "5 n1 acme>bolt synced own-change-syncs",
        "7 n1 acme>bolt synced own-change-syncs",
      ])
    #expect(
      t.audit("n2") == [
        "4 n2 bolt>acme synced own-change-syncs [partner-items-internal-users-only]",
        "6 n2 bolt>acme synced own-change-syncs [partner-items-internal-users-only]",
        "8 n2 bolt>acme synced own-change-syncs",
      ])
  }

  @Test(
    "own-change-syncs: every kind that may cross reaches the other side",
    arguments: [
      ("acme", EntryKind.note), ("acme", .time), ("acme", .attachment),
      ("bolt", .note), ("bolt", .time), ("bolt", .attachment), ("bolt", .charge),
    ])
  func ownChangeSyncsEveryKind(owner: String, kind: EntryKind) throws {
    var t = try Ticket([ev.outsourced("bolt"), ev.accepted()])
    try t.run(ev.labelled("e1", by: owner, kind, "x"))
    let other = owner == "acme" ? "bolt" : "acme"
    let copy = try #require(try t.entry("e1", of: other))
    #expect(copy.isCopy && copy.owner == owner && copy.label == "x")
    #expect(t.audit("e1").count == 1)
    #expect(t.projection.decisions.last?.outcome == .synced)
    #expect(t.projection.decisions.last?.rule == .ownChangeSyncs)
  }

  @Test("own-change-syncs: no decision for the lead's changes before an acceptance")
  func leadChangesBeforeAcceptance() throws {
    var t = try Ticket([ev.added("n1", by: "acme", .note, text: "v1")])
    try t.run(ev.outsourced("bolt"), ev.edited("n1", by: "acme", text: "v2"))
    try t.run(ev.added("n2", by: "acme", .note), ev.deleted("n2", by: "acme"))
    #expect(t.projection.decisions.isEmpty)
    try t.run(ev.accepted())
    #expect(t.audit("n1") == ["6 n1 acme>bolt synced copied-at-acceptance"])
    #expect(try t.entry("n1", of: "bolt")?.content.text == "v2")
  }

  @Test("copied-at-acceptance: the lead's existing entries, in creation order, latest state, filtered")
  func copiedAtAcceptance() throws {
    let t = try Ticket([
      ev.added("n1", by: "acme", .note, text: "before outsourcing"),
      ev.outsourced("bolt"),
      ev.added("t1", by: "acme", .time, hours: 1.5, text: "diag"),
      ev.added("n0", by: "acme", .note, visibility: .internal),
      ev.added("a1", by: "acme", .attachment, type: .url, name: "KB"),
      ev.added("c1", by: "acme", .charge, amount: 50),
      ev.added("a2", by: "acme", .attachment, type: .file, name: "photo.jpg"),
      ev.added("d1", by: "acme", .note),
      ev.deleted("d1", by: "acme"),
      ev.edited("n1", by: "acme", text: "latest"),
      ev.accepted(),
    ])
    #expect(t.status() == .accepted)
    #expect(
      t.audit(at: 11) == [
        "11 n1 acme>bolt synced copied-at-acceptance",
        "11 t1 acme>bolt synced copied-at-acceptance [lead-time-as-note]",
        "11 n0 acme>bolt not-synced internal-never-syncs",
        "11 a1 acme>bolt not-synced links-never-sync",
        "11 c1 acme>bolt not-synced lead-charges-stay-local",
        "11 a2 acme>bolt synced copied-at-acceptance",
      ])
    #expect(try t.ids("bolt") == ["n1", "t1", "a2"])
    #expect(try t.entry("n1", of: "bolt")?.content.text == "latest")
    #expect(try t.view("bolt").entries.allSatisfy { $0.isCopy && !$0.severed && $0.owner == "acme" })
    #expect(try t.ids("acme") == ["n1", "t1", "n0", "a1", "c1", "a2"])
  }

  @Test("copied-at-acceptance: a later engagement receives the lead's entries afresh")
  func copiedAtAcceptanceAgain() throws {
    let t = try Ticket([
      ev.outsourced("bolt"), ev.added("n1", by: "acme", .note, text: "room B"), ev.declined(),
      ev.outsourced("crane"), ev.accepted(by: "crane"),
    ])
    #expect(t.audit("n1") == ["5 n1 acme>crane synced copied-at-acceptance"])
    #expect(try t.ids("crane") == ["n1"])
    #expect(try t.ids("bolt") == [])
    #expect(try t.view("bolt").status == .declined)
  }

  @Test("lead-time-as-note: a public note with convertedFrom time; edits and deletion follow")
  func leadTimeAsNote() throws {
    var t = try Ticket([ev.outsourced("bolt"), ev.accepted()])
    try t.run(ev.added("t1", by: "acme", .time, hours: 1.5, title: "Remote", text: "diag"))
    let note = try #require(try t.entry("t1", of: "bolt"))
    #expect(note.convertedFrom == .time)
    #expect(
      note.content
        == EntryContent(kind: .note, hours: 1.5, title: "Remote", text: "diag", visibility: .public))
    #expect(try t.entry("t1", of: "acme")?.content.kind == .time)
    #expect(try t.entry("t1", of: "acme")?.content.visibility == nil)

    try t.run(ev.edited("t1", by: "acme", hours: 2, text: "remote diag"))
    #expect(try t.entry("t1", of: "bolt")?.content.hours == 2)
    #expect(try t.entry("t1", of: "bolt")?.content.text == "remote diag")
    #expect(try t.entry("t1", of: "bolt")?.convertedFrom == .time)
    try t.run(ev.deleted("t1", by: "acme"))
    #expect(try t.ids("bolt") == [])
    #expect(
      t.audit("t1") == [
        "3 t1 acme>bolt synced own-change-syncs [lead-time-as-note]",
        "4 t1 acme>bolt synced own-change-syncs [lead-time-as-note]",
        "5 t1 acme>bolt synced own-change-syncs",
      ])
  }

  @Test("lead-time-as-note: the service partner's time reaches the lead as time, untransformed")
  func partnerTimeStaysTime() throws {
    let t = try Ticket([
      ev.outsourced("bolt"), ev.accepted(), ev.added("t2", by: "bolt", .time, hours: 3, text: "fix"),
    ])
    let copy = try #require(try t.entry("t2", of: "acme"))
    #expect(copy.content == EntryContent(kind: .time, hours: 3, text: "fix"))
    #expect(copy.convertedFrom == nil)
    #expect(t.audit("t2") == ["3 t2 bolt>acme synced own-change-syncs"])
  }

  @Test(
    "partner-items-internal-users-only: notes and attachments only; charges and time untouched",
    arguments: [EntryKind.note, .attachment, .charge, .time])
  func partnerItemsInternalUsersOnly(kind: EntryKind) throws {
    var t = try Ticket([ev.outsourced("bolt"), ev.accepted()])
    try t.run(ev.labelled("e1", by: "bolt", kind, "x"))
    let own = try #require(try t.entry("e1", of: "bolt"))
    let copy = try #require(try t.entry("e1", of: "acme"))
    let transformed = kind == .note || kind == .attachment
    #expect(copy.content.kind == kind)
    #expect(copy.content.visibility == (transformed ? .internalUsersOnly : nil))
    #expect(own.content.visibility == (transformed ? .public : nil))
    let suffix = transformed ? " [partner-items-internal-users-only]" : ""
    #expect(t.audit("e1") == ["3 e1 bolt>acme synced own-change-syncs" + suffix])

    try t.run(ev.relabelled("e1", by: "bolt", kind, "y"))
    #expect(try t.entry("e1", of: "acme")?.label == "y")
    #expect(try t.entry("e1", of: "acme")?.content.visibility == copy.content.visibility)
    #expect(t.audit("e1").last == "4 e1 bolt>acme synced own-change-syncs" + suffix)
  }

  @Test("partner-items-internal-users-only: the lead's public note stays public for the partner")
  func leadNotesStayPublic() throws {
    let t = try Ticket([ev.outsourced("bolt"), ev.accepted(), ev.added("n1", by: "acme", .note)])
    #expect(try t.entry("n1", of: "bolt")?.content.visibility == .public)
    #expect(t.audit("n1") == ["3 n1 acme>bolt synced own-change-syncs"])
  }
}
