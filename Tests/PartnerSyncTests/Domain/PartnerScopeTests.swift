import Testing

@testable import PartnerSync
@testable import PartnerSyncDomain

/// Reads scoped to one partner (`as:`), on hand-made histories: the rule of
/// ``SyncDecision/isVisible(to:)`` itself, and the engine's scoped audit, notifications, export
/// and subscription.
@Suite("Reads scoped to one partner")
struct PartnerScopeTests {
  /// A log holding `events`, recorded in one batch.
  static func log(_ events: [TicketEvent]) throws -> PartnerSyncLog {
    let log = try PartnerSyncLog.inMemory()
    try log.record(events, now: Ticket.start)
    return log
  }

  /// The error `body` throws, or `nil`.
  static func error<T>(_ body: () throws(PartnerSyncError) -> T) -> PartnerSyncError? {
    do {
      _ = try body()
      return nil
    } catch {
      return error
    }
  }

  /// Everything the scoped reads of `partner` print about ticket T-1: its audit and notifications
  /// as JSON, and its export lines.
  static func scopedText(_ log: PartnerSyncLog, as partner: String) throws -> String {
    let decisions = try log.audit(ticket: "T-1", as: partner).map(\.json.jsonText)
    let notifications = try log.notifications(ticket: "T-1", as: partner).map(\.json.jsonText)
    var lines: [String] = []
    try log.export(ticket: "T-1", as: partner) { lines.append($0) }
    return (decisions + notifications + lines).joined(separator: "\n")
  }

  // MARK: The rule

  @Test("a decision is visible to the partner that made the change, and to the one whose version it changed")
  func visibilityRule() {
    func decision(
      by: String = "acme", to: String = "bolt", _ outcome: SyncOutcome, _ rule: RuleID, before: Bool = false,
      after: Bool = false
    ) -> SyncDecision {
      var d = SyncDecision(
        position: 3, event: .entryAdded, entry: "n1", kind: .note, by: by, to: to, outcome: outcome, rule: rule,
        engagement: 1)
      d.copyBefore = before
      d.copyAfter = after
      return d
    }
    let synced = decision(.synced, .ownChangeSyncs, after: true)
    #expect(synced.isVisible(to: "acme") && synced.isVisible(to: "bolt") && !synced.isVisible(to: "crane"))
    // Changes that left bolt's version as it was: only acme may know of them.
    for hidden in [
      decision(.notSynced, .internalNeverSyncs), decision(.held, .suspendedWaitingApproval),
      decision(.dropped, .droppedAtCompletion, before: true, after: true),
      decision(.notSynced, .severedLink, before: true, after: true), decision(.notSynced, .syncEnded),
      decision(.synced, .ownChangeSyncs), decision(.released, .releasedOnRejection),
    ] {
      #expect(hidden.isVisible(to: "acme"), "\(hidden.brief)")
      #expect(!hidden.isVisible(to: "bolt"), "\(hidden.brief)")
    }
    // Changes to bolt's version: a copy updated, removed, withdrawn, released.
    for shown in [
      decision(.synced, .ownChangeSyncs, before: true), decision(.synced, .ownChangeSyncs, before: true, after: true),
      decision(.notSynced, .internalNeverSyncs, before: true), decision(.released, .releasedOnRejection, after: true),
    ] {
      #expect(shown.isVisible(to: "bolt"), "\(shown.brief)")
    }
    // The completion bundle is the lead's entry, not the service partner's change.
    let bundle = decision(by: "bolt", to: "acme", .synced, .timeBundledAtCompletion, after: true)
    #expect(bundle.isVisible(to: "acme") && !bundle.isVisible(to: "bolt"))
  }

  // MARK: Internal entries

  @Test("the lead's internal note never shows to bolt: no id, no text, not even as a missing entry")
  func internalNoteOfTheLead() throws {
    let log = try Self.log([
      ev.added("secret", by: "acme", .note, text: "hush-hush", visibility: .internal),
      ev.added("n1", by: "acme", .note, text: "shared"),
      ev.outsourced("bolt"), ev.accepted(),
      ev.added("later", by: "acme", .note, text: "still-hush", visibility: .internal),
      ev.edited("n1", by: "acme", text: "now-hush", visibility: .internal),
      ev.added("b1", by: "bolt", .note, text: "bolt-private", visibility: .internal),
    ])
    let bolt = try Self.scopedText(log, as: "bolt")
    for hidden in ["secret", "hush-hush", "later", "still-hush", "now-hush"] {
      #expect(!bolt.contains(hidden), "bolt's scoped reads name \(hidden)")
    }
    // bolt held n1: it learns that its copy was withdrawn, not what n1 says now.
    #expect(
      try log.audit(ticket: "T-1", as: "bolt").map(\.brief) == [
        "4 n1 acme>bolt synced copied-at-acceptance", "6 n1 acme>bolt not-synced internal-never-syncs",
        "7 b1 bolt>acme not-synced internal-never-syncs",
      ])
    // The lead never learns of bolt's internal note.
    let acme = try Self.scopedText(log, as: "acme")
    #expect(!acme.contains("b1") && !acme.contains("bolt-private"))
    #expect(try log.audit(ticket: "T-1", entry: "b1", as: "bolt").count == 1)
    // An entry bolt never held is reported as one the ticket never had.
    let hidden = Self.error { () throws(PartnerSyncError) in try log.audit(ticket: "T-1", entry: "secret", as: "bolt") }
    let missing = Self.error { () throws(PartnerSyncError) in try log.audit(ticket: "T-1", entry: "nope", as: "bolt") }
    #expect(hidden?.code == .unknownEntry && missing?.code == .unknownEntry)
    #expect(hidden?.message == "ticket T-1 has no entry secret")
    #expect(missing?.message == "ticket T-1 has no entry nope")
    #expect(try log.audit(ticket: "T-1", entry: "secret", as: "acme").map(\.rule) == [.internalNeverSyncs])
  }

  // MARK: Other engagements

  @Test("crane's engagement on the same ticket is invisible to bolt, and bolt's to crane")
  func otherServicePartner() throws {
    let log = try Self.log([
      ev.added("n1", by: "acme", .note, text: "for-all"),
      ev.outsourced("bolt"), ev.accepted(),
      ev.added("b1", by: "bolt", .note, text: "from-bolt"), ev.added("bt", by: "bolt", .time, text: "bolt-hours"),
      ev.completed(),
      ev.outsourced("crane", resource: "dana"), ev.accepted(by: "crane"),
      ev.added("c1", by: "crane", .note, text: "from-crane"), ev.added("n2", by: "acme", .note, text: "for-crane"),
      ev.edited("b1", by: "acme", text: "acme-on-b1"), ev.requested(by: "crane"),
      ev.added("c2", by: "crane", .time, text: "crane-hours"), ev.approved(),
    ])
    let bolt = try Self.scopedText(log, as: "bolt")
    for hidden in ["crane", "c1", "c2", "from-crane", "crane-hours", "n2", "for-crane", "engagement 2", "bundle-"] {
      #expect(!bolt.contains(hidden), "bolt's scoped reads name \(hidden)")
    }
    #expect(try log.audit(ticket: "T-1", as: "bolt").allSatisfy { $0.engagement == 1 })
    let crane = try Self.scopedText(log, as: "crane")
    for hidden in ["bolt", "b1", "bt", "from-bolt", "bolt-hours", "acme-on-b1", "engagement 1", "bundle-"] {
      #expect(!crane.contains(hidden), "crane's scoped reads name \(hidden)")
    }
    // The lead knows both engagements.
    let acme = try Self.scopedText(log, as: "acme")
    for known in ["bolt", "crane", "b1", "c1", "bundle-1"] { #expect(acme.contains(known)) }
    // crane's time entry was held while waiting for approval, then dropped: the lead's resource
    // is told that time was logged, not which entry.
    let notice = try #require(
      try log.notifications(ticket: "T-1", as: "acme").last { $0.rule == .subcontractorTimeNotifiesResource })
    #expect(notice.entry == nil && notice.text == "crane logged a time entry on ticket T-1." && notice.to == "dana")
    #expect(!acme.contains("c2") && !acme.contains("crane-hours"))
    let unscoped = try log.notifications(ticket: "T-1").last { $0.rule == .subcontractorTimeNotifiesResource }
    #expect(unscoped?.entry == "c2" && unscoped?.text == "crane logged time entry c2 on ticket T-1.")
  }

  // MARK: Tickets a partner may not know

  @Test("a ticket the partner was never engaged on fails exactly as a ticket that does not exist")
  func unknownTicket() throws {
    let log = try Self.log([
      ev.added("n1", by: "acme", .note), ev.outsourced("bolt"), ev.accepted(),
      TicketEvent(ticket: "T-2", by: "zed", .entryAdded(entry: "z1", content: EntryContent(kind: .note, text: "z"))),
    ])
    func failures(_ ticket: String, as partner: String) -> [PartnerSyncError?] {
      [
        Self.error { () throws(PartnerSyncError) in try log.audit(ticket: ticket, as: partner) },
        Self.error { () throws(PartnerSyncError) in try log.audit(ticket: ticket, entry: "n1", as: partner) },
        Self.error { () throws(PartnerSyncError) in try log.audit(ticket: ticket, at: .position(2), as: partner) },
        Self.error { () throws(PartnerSyncError) in try log.audit(ticket: ticket, at: .time(Ticket.start), as: partner)
        },
        Self.error { () throws(PartnerSyncError) in try log.notifications(ticket: ticket, as: partner) },
        Self.error { () throws(PartnerSyncError) in try log.export(ticket: ticket, as: partner) { _ in } },
      ]
    }
    let never = failures("T-1", as: "zed")
    let missing = failures("T-9", as: "zed")
    #expect(never.map { $0?.code } == Array(repeating: .unknownTicket, count: 6))
    #expect(never.map { $0?.message } == Array(repeating: "ticket T-1 is not in the log", count: 6))
    #expect(missing.map { $0?.message } == Array(repeating: "ticket T-9 is not in the log", count: 6))
    // Before bolt was offered the ticket (position 1), bolt may not know it either.
    #expect(
      Self.error { () throws(PartnerSyncError) in try log.audit(ticket: "T-1", at: .position(1), as: "bolt") }?.message
        == "ticket T-1 is not in the log")
    // The whole log's outbox and export, scoped, hold nothing of the tickets zed or bolt may not know.
    #expect(try log.notifications(as: "zed").isEmpty)
    var zed: [String] = []
    try log.export(as: "zed") { zed.append($0) }
    #expect(zed.count == 1 && zed[0].contains("\"T-2\""))
    var bolt: [String] = []
    try log.export(as: "bolt") { bolt.append($0) }
    #expect(bolt.count == 1 && bolt[0].contains("\"accepted\""))
  }

  @Test("a partner that declined the offer knows the ticket, and nothing of its entries")
  func declinedPartner() throws {
    let log = try Self.log([
      ev.added("n1", by: "acme", .note, text: "before"), ev.outsourced("bolt"), ev.declined(),
      ev.outsourced("crane"), ev.accepted(by: "crane"), ev.added("n2", by: "acme", .note, text: "after"),
    ])
    #expect(try log.audit(ticket: "T-1", as: "bolt").isEmpty)
    #expect(
      try log.notifications(ticket: "T-1", as: "bolt").map(\.text) == [
        "acme outsourced ticket T-1 to bolt (engagement 1)."
      ])
    let bolt = try Self.scopedText(log, as: "bolt")
    for hidden in ["crane", "n1", "n2", "before", "after"] { #expect(!bolt.contains(hidden)) }
    #expect(
      Self.error { () throws(PartnerSyncError) in try log.audit(ticket: "T-1", entry: "n1", as: "bolt") }?.code
        == .unknownEntry)
  }

  // MARK: Unscoped reads

  @Test("without a partner the reads are the log owner's, as before")
  func unscopedReadsUnchanged() throws {
    let events = [
      ev.added("n1", by: "acme", .note, visibility: .internal), ev.outsourced("bolt"), ev.accepted(),
      ev.added("b1", by: "bolt", .note), ev.requested(), ev.added("t1", by: "bolt", .time), ev.approved(),
    ]
    let log = try Self.log(events)
    let ticket = try Ticket(events)
    #expect(try log.audit(ticket: "T-1") == ticket.projection.decisions)
    #expect(try log.audit(ticket: "T-1", as: nil) == ticket.projection.decisions)
    #expect(try log.notifications(ticket: "T-1") == ticket.projection.notifications)
    var lines: [String] = []
    try log.export { lines.append($0) }
    #expect(lines.count == events.count)
    // Scoped, each reads a part of it.
    #expect(try log.audit(ticket: "T-1", as: "bolt").count < ticket.projection.decisions.count)
    #expect(
      try log.notifications(as: "acme").count + log.notifications(as: "bolt").count
        == ticket.projection.notifications.count)
  }

  // MARK: Subscriptions

  @Test("a scoped subscription yields only the partner's own events")
  func scopedSubscription() async throws {
    let log = try Self.log([
      ev.added("n1", by: "acme", .note), ev.outsourced("bolt"), ev.accepted(), ev.added("b1", by: "bolt", .note),
      ev.added("n2", by: "acme", .note), ev.added("b2", by: "bolt", .note),
    ])
    var seen: [Int64] = []
    for try await event in log.events(after: 0, as: "bolt", interval: .milliseconds(5)) {
      #expect(event.event.by == "bolt")
      seen.append(event.position)
      if seen.count == 3 { break }
    }
    #expect(seen == [3, 4, 6])
  }
}
