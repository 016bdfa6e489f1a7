import Testing

@testable import PartnerSync
@testable import PartnerSyncDomain

/// `time-bundled-at-completion`.
@Suite("Completion bundle")
struct BundleTests {
  @Test(
    "time-bundled-at-completion: the sum of the partner's time on the lead's side, with its rate",
    arguments: [EventType.completed, .completionApproved])
  func bundled(end: EventType) throws {
    var t = try Ticket([
      ev.outsourced("bolt", resource: "dana", rate: 80), ev.accepted(),
      ev.added("t1", by: "bolt", .time, hours: 2, text: "Diagnosis"),
      ev.added("t2", by: "bolt", .time, hours: 1, text: "Parts"),
      ev.added("t3", by: "bolt", .time, hours: 0.5, text: "Travel"),
      ev.edited("t2", by: "acme", hours: 1.25),
      ev.deleted("t3", by: "bolt"),
      ev.added("t9", by: "acme", .time, hours: 7),
    ])
    if end == .completionApproved { try t.run(ev.requested()) }
    try t.run(ev.status(end, by: "acme"))
    let at = t.projection.position
    #expect(t.audit(at: at) == ["\(at) bundle-1 bolt>acme synced time-bundled-at-completion"])
    #expect(try t.ids("acme") == ["t1", "t2", "t9", "bundle-1"])
    let bundle = try #require(try t.entry("bundle-1", of: "acme"))
    #expect(bundle.system && !bundle.isCopy && !bundle.severed && bundle.owner == "acme")
    #expect(bundle.content == EntryContent(kind: .charge, hours: 3.25, amount: 260, billable: false))
    #expect(try t.entry("t2", of: "acme")?.severed == true)
    #expect(try t.ids("bolt") == ["t1", "t2", "t9"])
    #expect(t.projection.decisions.last?.transforms == [])
  }

  @Test("time-bundled-at-completion: no amount without a rate")
  func noRate() throws {
    let t = try Ticket([
      ev.outsourced("bolt"), ev.accepted(), ev.added("t1", by: "bolt", .time, hours: 1.5),
      ev.completed(),
    ])
    let bundle = try #require(try t.entry("bundle-1", of: "acme"))
    #expect(bundle.content == EntryContent(kind: .charge, hours: 1.5, billable: false))
  }

  @Test("time-bundled-at-completion: no bundle without time that reached the lead")
  func noTimeNoBundle() throws {
    var t = try Ticket([
      ev.outsourced("bolt", rate: 50), ev.accepted(),
      ev.added("n1", by: "bolt", .note),
      ev.added("t1", by: "bolt", .time, hours: 1),
      ev.deleted("t1", by: "acme"),
      ev.added("t2", by: "bolt", .time, hours: 2),
      ev.deleted("t2", by: "bolt"),
      ev.added("t9", by: "acme", .time, hours: 3),
      ev.requested(),
      ev.added("t3", by: "bolt", .time, hours: 4),
    ])
    try t.run(ev.approved())
    #expect(t.audit("bundle-1") == [])
    #expect(t.audit(at: 11) == ["11 t3 bolt>acme dropped dropped-at-completion heldAt:10"])
    #expect(try t.ids("acme") == ["n1", "t9"])
    #expect(try t.ids("bolt") == ["n1", "t1", "t9", "t3"])
  }

  @Test("time-bundled-at-completion: after the dropped changes, at the same position")
  func orderAtCompletion() throws {
    var t = try Ticket([
      ev.outsourced("bolt"), ev.accepted(), ev.added("t1", by: "bolt", .time, hours: 1),
      ev.requested(), ev.added("t2", by: "bolt", .time, hours: 5),
    ])
    try t.run(ev.completed())
    #expect(
      t.audit(at: 6) == [
        "6 t2 bolt>acme dropped dropped-at-completion heldAt:5",
        "6 bundle-1 bolt>acme synced time-bundled-at-completion",
      ])
    #expect(try t.entry("bundle-1", of: "acme")?.content.hours == 1)
  }

  @Test("time-bundled-at-completion: each engagement bundles its own partner's time")
  func bundlePerEngagement() throws {
    let t = try Ticket([
      ev.outsourced("bolt", rate: 10), ev.accepted(), ev.added("t1", by: "bolt", .time, hours: 1),
      ev.completed(), ev.outsourced("crane", rate: 20), ev.accepted(by: "crane"),
      ev.added("t2", by: "crane", .time, hours: 2), ev.edited("t1", by: "acme", hours: 4),
      ev.completed(),
    ])
    #expect(try t.ids("acme") == ["t1", "bundle-1", "t2", "bundle-2"])
    #expect(try t.entry("bundle-1", of: "acme")?.content.amount == 10)
    let second = try #require(try t.entry("bundle-2", of: "acme"))
    #expect(second.content == EntryContent(kind: .charge, hours: 2, amount: 40, billable: false))
    #expect(t.audit("bundle-2") == ["9 bundle-2 crane>acme synced time-bundled-at-completion"])
    #expect(try t.ids("crane") == ["t2"])
  }

  @Test("time-bundled-at-completion: the bundle is the lead's own entry from then on")
  func bundleIsLeadsOwn() throws {
    var t = try Ticket([
      ev.outsourced("bolt", rate: 80), ev.accepted(), ev.added("t1", by: "bolt", .time, hours: 1),
      ev.completed(),
    ])
    try t.run(ev.edited("bundle-1", by: "acme", title: "Bolt's work", amount: 70, billable: true))
    #expect(t.audit(at: 5) == ["5 bundle-1 acme>bolt not-synced sync-ended"])
    let bundle = try #require(try t.entry("bundle-1", of: "acme"))
    #expect(bundle.content.amount == 70 && bundle.content.billable == true && bundle.system)
    t.refuse(ev.edited("bundle-1", by: "acme", hours: 2))
    t.refuse(ev.edited("bundle-1", by: "bolt", amount: 1))
    t.refuse(ev.added("bundle-1", by: "acme", .note))
    try t.run(ev.deleted("bundle-1", by: "acme"))
    #expect(try t.ids("acme") == ["t1"])
    t.refuse(ev.added("bundle-1", by: "acme", .note))
  }

  @Test("time-bundled-at-completion: time released on rejection counts; time held then dropped does not")
  func releasedTimeCounts() throws {
    var t = try Ticket([
      ev.outsourced("bolt", rate: 100), ev.accepted(), ev.requested(),
      ev.added("t1", by: "bolt", .time, hours: 1), ev.rejected(), ev.requested(),
      ev.added("t2", by: "bolt", .time, hours: 2),
    ])
    try t.run(ev.approved())
    #expect(
      t.audit(at: 8) == [
        "8 t2 bolt>acme dropped dropped-at-completion heldAt:7",
        "8 bundle-1 bolt>acme synced time-bundled-at-completion",
      ])
    let bundle = try #require(try t.entry("bundle-1", of: "acme"))
    #expect(bundle.content.hours == 1 && bundle.content.amount == 100)
  }

  @Test("time-bundled-at-completion: the bundle stays local when the same partner is engaged again")
  func bundleNotCopiedToSamePartner() throws {
    let t = try Ticket([
      ev.outsourced("bolt"), ev.accepted(), ev.added("t1", by: "bolt", .time, hours: 1),
      ev.completed(), ev.outsourced("bolt"), ev.accepted(),
    ])
    #expect(t.audit(at: 6) == ["6 bundle-1 acme>bolt not-synced lead-charges-stay-local"])
    #expect(try t.ids("bolt") == [])
    #expect(try t.ids("bolt", engagement: 1) == ["t1"])
  }

  @Test("time-bundled-at-completion: switched off in a rule-set variant")
  func bundleSwitchedOff() throws {
    var rules = RuleSet()
    rules.bundleTimeAtCompletion = false
    let t = try Ticket(
      [
        ev.outsourced("bolt"), ev.accepted(), ev.added("t1", by: "bolt", .time, hours: 1),
        ev.completed(),
      ], rules: rules)
    #expect(try t.ids("acme") == ["t1"])
    #expect(t.audit("bundle-1") == [])
  }
}
