import Testing

@testable import PartnerSync
@testable import PartnerSyncDomain

/// The filters: `internal-never-syncs`, `links-never-sync`, `lead-charges-stay-local`.
@Suite("Filters: what never crosses")
struct FilterRuleTests {
  @Test("internal-never-syncs: internal notes and attachments stay home, on both sides")
  func internalNeverSyncs() throws {
    var t = try Ticket([ev.outsourced("bolt"), ev.accepted()])
    try t.run(
      ev.added("n1", by: "acme", .note, text: "Customer is difficult", visibility: .internal),
      ev.added("n2", by: "bolt", .note, text: "Lead pays late", visibility: .internal),
      ev.added("a1", by: "bolt", .attachment, visibility: .internal),
      ev.edited("n1", by: "acme", text: "still internal"),
      ev.deleted("n2", by: "bolt"))
    #expect(try t.ids("acme") == ["n1"])
    #expect(try t.ids("bolt") == ["a1"])
    #expect(
      t.projection.decisions.map(\.brief) == [
        "3 n1 acme>bolt not-synced internal-never-syncs",
        "4 n2 bolt>acme not-synced internal-never-syncs",
        "5 a1 bolt>acme not-synced internal-never-syncs",
        "6 n1 acme>bolt not-synced internal-never-syncs",
        "7 n2 bolt>acme not-synced internal-never-syncs",
      ])
    #expect(t.projection.notifications.allSatisfy { $0.rule == .outsourcingNotifiesPrimaryContact })
  }

  @Test(
    "internal-never-syncs: made internal, a copy is withdrawn; public again, re-created at the end",
    arguments: ["acme", "bolt"])
  func madeInternalThenPublic(owner: String) throws {
    let other = owner == "acme" ? "bolt" : "acme"
    var t = try Ticket([ev.outsourced("bolt"), ev.accepted()])
    try t.run(
      ev.added("n1", by: owner, .note, text: "shared"),
      ev.added("n2", by: owner, .note, text: "second"))
    #expect(try t.ids(other) == ["n1", "n2"])

    try t.run(ev.edited("n1", by: owner, text: "secret", visibility: .internal))
    #expect(try t.ids(other) == ["n2"])
    #expect(t.audit(at: 5) == ["5 n1 \(owner)>\(other) not-synced internal-never-syncs"])
    try t.run(ev.edited("n1", by: owner, text: "still secret"))
    #expect(t.audit(at: 6) == ["6 n1 \(owner)>\(other) not-synced internal-never-syncs"])

    try t.run(ev.edited("n1", by: owner, text: "shared again", visibility: .public))
    #expect(try t.ids(other) == ["n2", "n1"])
    let copy = try #require(try t.entry("n1", of: other))
    #expect(copy.content.text == "shared again" && copy.isCopy && !copy.severed)
    let suffix = owner == "bolt" ? " [partner-items-internal-users-only]" : ""
    #expect(t.audit(at: 7) == ["7 n1 \(owner)>\(other) synced own-change-syncs" + suffix])
    #expect(try t.ids(owner) == ["n1", "n2"])
  }

  @Test("internal-never-syncs: holds under every rule-set variant")
  func internalUnderAnyRuleSet() throws {
    var rules = RuleSet()
    rules.leadTimeAsNote = false
    rules.partnerItemsInternalUsersOnly = false
    rules.linksNeverSync = false
    rules.leadChargesStayLocal = false
    rules.copyAtAcceptance = false
    var t = try Ticket([ev.outsourced("bolt"), ev.accepted()], rules: rules)
    try t.run(
      ev.added("n1", by: "acme", .note, visibility: .internal),
      ev.added("n2", by: "bolt", .note, visibility: .internal),
      ev.added("c1", by: "acme", .charge))
    #expect(try t.ids("bolt") == ["n2", "c1"])
    #expect(try t.ids("acme") == ["n1", "c1"])
  }

  @Test(
    "links-never-sync: only file attachments cross, from either side",
    arguments: ["acme", "bolt"], [AttachmentType.file, .url, .fileLink, .folderLink])
  func linksNeverSync(owner: String, type: AttachmentType) throws {
    let other = owner == "acme" ? "bolt" : "acme"
    var t = try Ticket([ev.outsourced("bolt"), ev.accepted()])
    try t.run(
      ev.added("a1", by: owner, .attachment, type: type, name: "doc", uri: "https://x.example"),
      ev.edited("a1", by: owner, name: "doc v2"))
    if type == .file {
      #expect(try t.ids(other) == ["a1"])
      let copy = try #require(try t.entry("a1", of: other))
      #expect(copy.content.attachmentType == .file && copy.content.name == "doc v2")
      #expect(t.audit("a1").allSatisfy { $0.contains("synced own-change-syncs") })
    } else {
      #expect(try t.ids(other) == [])
      #expect(
        t.audit("a1") == [
          "3 a1 \(owner)>\(other) not-synced links-never-sync",
          "4 a1 \(owner)>\(other) not-synced links-never-sync",
        ])
    }
    #expect(try t.ids(owner) == ["a1"])
  }

  @Test("links-never-sync: an internal link is decided by internal-never-syncs, tried first")
  func filterOrder() throws {
    let t = try Ticket([
      ev.outsourced("bolt"), ev.accepted(),
      ev.added("a1", by: "acme", .attachment, visibility: .internal, type: .url, name: "kb"),
    ])
    #expect(t.audit("a1") == ["3 a1 acme>bolt not-synced internal-never-syncs"])
  }

  @Test("links-never-sync and lead-charges-stay-local can be switched off in a rule-set variant")
  func filterVariants() throws {
    var rules = RuleSet()
    rules.linksNeverSync = false
    rules.leadChargesStayLocal = false
    let t = try Ticket(
      [
        ev.outsourced("bolt"), ev.accepted(), ev.added("a1", by: "acme", .attachment, type: .url),
        ev.added("c1", by: "acme", .charge, amount: 5),
      ], rules: rules)
    #expect(try t.ids("bolt") == ["a1", "c1"])
    #expect(t.audit("c1") == ["4 c1 acme>bolt synced own-change-syncs"])
  }

  @Test("lead-charges-stay-local: the lead's charges stay; the partner's charges reach the lead")
  func leadChargesStayLocal() throws {
    var t = try Ticket([ev.outsourced("bolt"), ev.accepted()])
    try t.run(
      ev.added("c1", by: "acme", .charge, title: "Parts", amount: 40),
      ev.edited("c1", by: "acme", amount: 45),
      ev.added("c2", by: "bolt", .charge, title: "Travel", amount: 120))
    #expect(try t.ids("bolt") == ["c2"])
    #expect(try t.ids("acme") == ["c1", "c2"])
    let copy = try #require(try t.entry("c2", of: "acme"))
    #expect(copy.content == EntryContent(kind: .charge, title: "Travel", amount: 120, billable: true))
    #expect(
      t.projection.decisions.map(\.brief) == [
        "3 c1 acme>bolt not-synced lead-charges-stay-local",
        "4 c1 acme>bolt not-synced lead-charges-stay-local",
        "5 c2 bolt>acme synced own-change-syncs",
      ])
  }

  @Test("lead-charges-stay-local: the completion bundle is never copied to a later engagement")
  func bundleStaysLocal() throws {
    var t = try Ticket([
      ev.outsourced("bolt", rate: 80), ev.accepted(), ev.added("t1", by: "bolt", .time, hours: 2),
      ev.completed(), ev.outsourced("crane"), ev.accepted(by: "crane"),
    ])
    #expect(try t.ids("acme") == ["t1", "bundle-1"])
    #expect(try t.ids("crane") == [])
    #expect(
      t.audit("bundle-1") == [
        "4 bundle-1 bolt>acme synced time-bundled-at-completion",
        "6 bundle-1 acme>crane not-synced lead-charges-stay-local",
      ])
    try t.run(ev.edited("bundle-1", by: "acme", amount: 150))
    #expect(t.audit(at: 7) == ["7 bundle-1 acme>crane not-synced lead-charges-stay-local"])
    #expect(try t.ids("crane") == [])
    #expect(try t.entry("bundle-1", of: "acme")?.content.amount == 150)
  }
}
