import Testing

@testable import PartnerSync
@testable import PartnerSyncDomain

/// `foreign-edit-severs`, `foreign-delete-severs`, `severed-link`.
@Suite("Severing: foreign changes cut the link")
struct SeveringTests {
  @Test("foreign-edit-severs: the partner edits the lead's note; nothing goes back")
  func partnerEditsLeadEntry() throws {
    var t = try Ticket([
      ev.outsourced("bolt"), ev.accepted(), ev.added("n1", by: "acme", .note, text: "v1"),
    ])
    try t.run(ev.edited("n1", by: "bolt", text: "bolt's version"))
    let copy = try #require(try t.entry("n1", of: "bolt"))
    #expect(copy.severed && copy.isCopy && copy.owner == "acme" && copy.content.text == "bolt's version")
    #expect(try t.entry("n1", of: "acme")?.content.text == "v1")
    #expect(try t.entry("n1", of: "acme")?.severed == false)
    #expect(t.audit(at: 4) == ["4 n1 bolt>acme not-synced foreign-edit-severs"])
    #expect(t.status() == .inProgress)
  }

  @Test("foreign-edit-severs: the lead edits the partner's time entry; only its copy changes")
  func leadEditsPartnerEntry() throws {
    var t = try Ticket([
      ev.outsourced("bolt"), ev.accepted(), ev.added("t1", by: "bolt", .time, hours: 1),
    ])
    try t.run(ev.edited("t1", by: "acme", hours: 1.25, text: "corrected"))
    let copy = try #require(try t.entry("t1", of: "acme"))
    #expect(copy.severed && copy.content.hours == 1.25 && copy.content.text == "corrected")
    #expect(try t.entry("t1", of: "bolt")?.content == EntryContent(kind: .time, hours: 1))
    #expect(t.audit(at: 4) == ["4 t1 acme>bolt not-synced foreign-edit-severs"])
  }

  @Test("foreign-delete-severs: a deleted copy leaves one version only", arguments: ["acme", "bolt"])
  func foreignDeleteSevers(deleter: String) throws {
    let owner = deleter == "acme" ? "bolt" : "acme"
    var t = try Ticket([
      ev.outsourced("bolt"), ev.accepted(), ev.added("n1", by: owner, .note, text: "status"),
    ])
    try t.run(ev.deleted("n1", by: deleter))
    #expect(try t.ids(deleter) == [])
    #expect(try t.ids(owner) == ["n1"])
    #expect(try t.entry("n1", of: owner)?.severed == false)
    #expect(t.audit(at: 4) == ["4 n1 \(deleter)>\(owner) not-synced foreign-delete-severs"])
  }

  @Test("severed-link: the owner's later edits and deletion stay with it", arguments: ["acme", "bolt"])
  func severedLinkAfterEdit(owner: String) throws {
    let editor = owner == "acme" ? "bolt" : "acme"
    var t = try Ticket([
      ev.outsourced("bolt"), ev.accepted(), ev.added("n1", by: owner, .note, text: "v1"),
      ev.edited("n1", by: editor, text: "theirs"),
    ])
    try t.run(ev.edited("n1", by: owner, text: "v2"))
    #expect(try t.entry("n1", of: editor)?.content.text == "theirs")
    try t.run(ev.edited("n1", by: owner, visibility: .internal))
    #expect(try t.entry("n1", of: editor)?.content.text == "theirs")
    try t.run(ev.deleted("n1", by: owner))
    #expect(try t.ids(editor) == ["n1"])
    #expect(try t.entry("n1", of: editor)?.severed == true)
    #expect(
      t.audit("n1", to: editor).dropFirst() == [
        "5 n1 \(owner)>\(editor) not-synced severed-link",
        "6 n1 \(owner)>\(editor) not-synced severed-link",
        "7 n1 \(owner)>\(editor) not-synced severed-link",
      ])
    // The severing party may still change its copy: a foreign change, severing again.
    try t.run(ev.edited("n1", by: editor, text: "mine now"))
    #expect(t.audit(at: 8) == ["8 n1 \(editor)>\(owner) not-synced foreign-edit-severs"])
  }

  @Test("severed-link: a deleted copy is never re-created", arguments: ["acme", "bolt"])
  func deletedCopyNeverRecreated(owner: String) throws {
    let deleter = owner == "acme" ? "bolt" : "acme"
    var t = try Ticket([
      ev.outsourced("bolt"), ev.accepted(), ev.added("n1", by: owner, .note, text: "v1"),
      ev.deleted("n1", by: deleter),
    ])
    try t.run(
      ev.edited("n1", by: owner, text: "v2"),
      ev.edited("n1", by: owner, visibility: .internal),
      ev.edited("n1", by: owner, visibility: .public))
    #expect(try t.ids(deleter) == [])
    #expect(
      t.audit("n1", to: deleter).dropFirst() == [
        "5 n1 \(owner)>\(deleter) not-synced severed-link",
        "6 n1 \(owner)>\(deleter) not-synced severed-link",
        "7 n1 \(owner)>\(deleter) not-synced severed-link",
      ])
    #expect(t.projection.notifications.filter { $0.entry == "n1" }.count == 1)
  }

  @Test("severed-link: severing is per engagement; the next engagement gets a fresh link")
  func severingIsPerEngagement() throws {
    var t = try Ticket([
      ev.outsourced("bolt"), ev.accepted(), ev.added("n1", by: "acme", .note, text: "v1"),
      ev.deleted("n1", by: "bolt"), ev.completed(), ev.outsourced("crane"),
      ev.accepted(by: "crane"),
    ])
    #expect(try t.ids("crane") == ["n1"])
    try t.run(ev.edited("n1", by: "acme", text: "v2"))
    #expect(t.audit(at: 8) == ["8 n1 acme>crane synced own-change-syncs"])
    #expect(try t.entry("n1", of: "crane")?.content.text == "v2")
    #expect(try t.ids("bolt") == [])
  }

  @Test("severing is per entry: the other entries stay linked")
  func severingIsPerEntry() throws {
    var t = try Ticket([
      ev.outsourced("bolt"), ev.accepted(), ev.added("n1", by: "acme", .note),
      ev.added("n2", by: "acme", .note), ev.edited("n1", by: "bolt", text: "mine"),
    ])
    try t.run(ev.edited("n1", by: "acme", text: "a"), ev.edited("n2", by: "acme", text: "b"))
    #expect(t.audit(at: 6) == ["6 n1 acme>bolt not-synced severed-link"])
    #expect(t.audit(at: 7) == ["7 n2 acme>bolt synced own-change-syncs"])
    #expect(try t.entry("n2", of: "bolt")?.content.text == "b")
    #expect(try t.entry("n2", of: "bolt")?.severed == false)
  }

  @Test("foreign-edit-severs: the lead's edit of a partner's note copy keeps what it does not change")
  func foreignEditKeepsTransform() throws {
    var t = try Ticket([
      ev.outsourced("bolt"), ev.accepted(), ev.added("n1", by: "bolt", .note, text: "v1"),
    ])
    try t.run(ev.edited("n1", by: "acme", title: "Checked"))
    let copy = try #require(try t.entry("n1", of: "acme"))
    #expect(copy.content.visibility == .internalUsersOnly && copy.content.title == "Checked")
    #expect(copy.severed && copy.content.text == "v1")
    #expect(try t.entry("n1", of: "bolt")?.content.title == nil)
  }

  @Test("foreign-edit-severs: the partner edits the lead's time-as-note; the lead's time is untouched")
  func partnerEditsLeadTime() throws {
    var t = try Ticket([
      ev.outsourced("bolt"), ev.accepted(), ev.added("t1", by: "acme", .time, hours: 2, text: "diag"),
    ])
    try t.run(ev.edited("t1", by: "bolt", text: "remote diag", visibility: .internal))
    let note = try #require(try t.entry("t1", of: "bolt"))
    #expect(note.severed && note.convertedFrom == .time && note.content.hours == 2)
    #expect(note.content.visibility == .internal && note.content.text == "remote diag")
    #expect(try t.entry("t1", of: "acme")?.content == EntryContent(kind: .time, hours: 2, text: "diag"))
  }

  @Test("foreign-edit-severs: a foreign change is never held while waiting for approval")
  func foreignChangeWhileWaiting() throws {
    var t = try Ticket([
      ev.outsourced("bolt"), ev.accepted(), ev.added("n1", by: "bolt", .note, text: "done"),
      ev.requested(),
    ])
    try t.run(ev.edited("n1", by: "acme", text: "lead's words"))
    #expect(t.audit(at: 5) == ["5 n1 acme>bolt not-synced foreign-edit-severs"])
    try t.run(ev.rejected())
    #expect(t.audit(at: 6) == [])
    try t.run(ev.edited("n1", by: "bolt", text: "more"))
    #expect(t.audit(at: 7) == ["7 n1 bolt>acme not-synced severed-link"])
    #expect(try t.entry("n1", of: "acme")?.content.text == "lead's words")
  }
}
