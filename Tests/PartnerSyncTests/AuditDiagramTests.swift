import Foundation
import Testing

@testable import PartnerSync
@testable import PartnerSyncDomain

@Suite struct AuditDiagramTests {
  @Test(arguments: [
    ("a;b", "a#59;b"), ("x#y", "x#35;y"), ("<b>", "#60;b#62;"), ("say \"hi\"", "say #34;hi#34;"),
    ("line1\nline2", "line1 line2"), ("%%{init}%%", "#37;#37;#123;init#125;#37;#37;"), ("plain-id_1.2", "plain-id_1.2"),
    ("wrap:x", "wrap#58;x"), ("nowrap:y", "nowrap#58;y"),
  ])
  func escapeNeutralisesMermaidSyntax(_ pair: (String, String)) {
    #expect(AuditDiagram.escape(pair.0) == pair.1)
  }

  @Test(arguments: [
    ("On site", "On site"),
    ("Replaced the core switch today", "Replaced the core…"),
    ("Replaced the switch, rack B", "Replaced the switch…"),
    ("Five short words in all", "Five short words in…"),
    ("Supercalifragilisticexpialidocious", "Supercalifragilisticexp…"),
    ("  two\nlines  ", "two lines"),
    ("Ünïcödé wörds ✓ here", "Ünïcödé wörds ✓ here"),
  ])
  func captionKeepsAFewWords(_ pair: (String, String)) {
    let caption = AuditDiagram.caption(pair.0)
    #expect(caption == pair.1)
    #expect(caption.count <= AuditDiagram.captionLength)
  }

  static let decisions = [
    SyncDecision(
      position: 3, event: .entryAdded, entry: "n1", kind: .note, by: "bolt", to: "acme", outcome: .synced,
      rule: .ownChangeSyncs, transforms: [.partnerItemsInternalUsersOnly], engagement: 1),
    SyncDecision(
      position: 4, event: .entryEdited, entry: "n3", kind: .note, by: "acme", to: "bolt", outcome: .notSynced,
      rule: .internalNeverSyncs, engagement: 1),
    SyncDecision(
      position: 6, event: .entryAdded, entry: "n2", kind: .note, by: "bolt", to: "acme", outcome: .held,
      rule: .suspendedWaitingApproval, engagement: 1),
    SyncDecision(
      position: 6, event: .entryAdded, entry: "t1", kind: .time, by: "bolt", to: "acme", outcome: .held,
      rule: .suspendedWaitingApproval, engagement: 1),
    SyncDecision(
      position: 7, event: .completionRejected, entry: "n2", kind: .note, by: "bolt", to: "acme",
      outcome: .released, rule: .releasedOnRejection, transforms: [.partnerItemsInternalUsersOnly], heldAt: 6,
      engagement: 1),
    SyncDecision(
      position: 9, event: .completionApproved, entry: "t1", kind: .time, by: "bolt", to: "acme",
      outcome: .dropped, rule: .droppedAtCompletion, heldAt: 6, engagement: 1),
  ]

  static func diagram(
    decisions: [SyncDecision] = decisions, titles: [String: String] = ["n1": "On site visit at the depot"],
    engagements: [EngagementSummary] = [EngagementSummary(number: 1, partner: "bolt", status: .complete)],
    lead: String = "acme", partners: [String] = ["bolt"]
  ) -> [String] {
    AuditDiagram.mermaid(
      ticket: "T-1", lead: lead, partners: partners, decisions: decisions, titles: titles, engagements: engagements
    ).split(separator: "\n").map(String.init)
  }

  @Test func theSyncLineStandsBetweenTheSides() throws {
    let lines = Self.diagram()
    #expect(lines[0] == "sequenceDiagram")
    let participants = lines.filter { $0.contains("participant ") }.map { $0.trimmingCharacters(in: .whitespaces) }
    #expect(participants == ["participant P0 as acme", "participant S as sync line", "participant P1 as bolt"])
    // Each side, and the sync line between them, in a box of its own.
    let lead = try #require(lines.firstIndex(of: "  box rgb(236, 241, 250) lead"))
    let line = try #require(lines.firstIndex(of: "  box rgb(234, 234, 234)"))
    let service = try #require(lines.firstIndex(of: "  box rgb(244, 238, 250) service"))
    #expect(lead < line && line < service)
    #expect(lines[line + 1] == "    participant S as sync line" && lines[line + 2] == "  end")
  }

  @Test func arrowsCrossOrEndOnTheSyncLine() {
    let lines = Self.diagram()
    #expect(lines.contains("    P1->>P0: 3 n1 “On site visit at…” added: synced [own-change-syncs] ⇄internal"))
    #expect(lines.contains("    P0-xS: 4 n3 (note) edited: not-synced [internal-never-syncs]"))
    #expect(lines.contains("    P1-->>S: 6 n2 (note) added: held [suspended-waiting-approval]"))
    #expect(lines.contains("    S->>P0: 7 n2 (note): released [released-on-rejection] ⇄internal (held at 6)"))
    #expect(lines.contains("    P1--xS: 9 t1 (time): dropped [dropped-at-completion] (held at 6)"))
  }

  @Test func eachOutcomeSitsInABlockOfItsColour() {
    let lines = Self.diagram()
    // The colour in force at each arrow: the last `rect` opened before it, still open.
    var colour: String?
    var seen: [String] = []
    for line in lines {
      if line.hasPrefix("  rect ") {
        #expect(colour == nil, "blocks do not nest")
        colour = String(line.dropFirst("  rect ".count))
      } else if line == "  end" {
        colour = nil
      } else if line.hasPrefix("    P") || line.hasPrefix("    S") {
        seen.append(colour ?? "none")
      }
    }
    let green = AuditDiagram.fill(.synced)
    let red = AuditDiagram.fill(.notSynced)
    let amber = AuditDiagram.fill(.held)
    #expect(Set([green, red, amber]).count == 3)
    #expect(AuditDiagram.fill(.released) == green && AuditDiagram.fill(.dropped) == red)
    #expect(seen == [green, red, amber, amber, green, red])
    // The two held changes share one block.
    #expect(lines.filter { $0.hasPrefix("  rect ") }.count == 5)
  }

  @Test func aTicketWithoutDecisionsSaysSo() {
    let lines = Self.diagram(
      decisions: [], engagements: [EngagementSummary(number: 1, partner: "bolt", status: .assigned)])
    #expect(lines.contains("  Note over P0,S: no sync decisions yet"))
    #expect(lines.contains("  Note over P0,P1: engagement 1 → bolt · offered, no answer yet"))
    #expect(!lines.contains { $0.hasPrefix("  rect ") })
    #expect(!Self.diagram().contains { $0.contains("no sync decisions") })
  }

  @Test func handoverAfterADeclineIsNoted() throws {
    let decision = SyncDecision(
      position: 5, event: .accepted, entry: "n1", kind: .note, by: "acme", to: "cato", outcome: .synced,
      rule: .copiedAtAcceptance, engagement: 2)
    let lines = Self.diagram(
      decisions: [decision], titles: ["n1": "Details"],
      engagements: [
        EngagementSummary(number: 1, partner: "bolt", status: .declined),
        EngagementSummary(number: 2, partner: "cato", status: .inProgress),
      ])
    let participants = lines.filter { $0.contains("participant P") }.map { $0.trimmingCharacters(in: .whitespaces) }
    #expect(participants == ["participant P0 as acme", "participant P1 as bolt", "participant P2 as cato"])
    let declined = try #require(lines.firstIndex(of: "  Note over P0,P1: engagement 1 → bolt · declined"))
    let handover = try #require(
      lines.firstIndex(of: "  Note over P0,P2: handover from bolt · engagement 2 → cato · in progress"))
    let arrow = try #require(lines.firstIndex(of: "    P0->>P2: 5 n1 “Details”: synced [copied-at-acceptance]"))
    #expect(declined < handover && handover < arrow)
  }

  @Test func anEngagementWithoutDecisionsIsNotedAtTheEnd() {
    let lines = Self.diagram(engagements: [
      EngagementSummary(number: 1, partner: "bolt", status: .complete),
      EngagementSummary(number: 2, partner: "bolt", status: .assigned),
    ])
    #expect(lines.last == "  Note over P0,P1: handover from bolt · engagement 2 → bolt · offered, no answer yet")
  }

  @Test func partnerIdsThatLookLikeDirectivesAreEscaped() {
    let decision = SyncDecision(
      position: 3, event: .entryAdded, entry: "wrap:n1", kind: .note, by: "nowrap:b", to: "wrap:a",
      outcome: .synced, rule: .ownChangeSyncs, engagement: 1)
    let text = AuditDiagram.mermaid(
      ticket: "T-1", lead: "wrap:a", partners: ["nowrap:b"], decisions: [decision],
      titles: ["wrap:n1": "wrap: this"],
      engagements: [EngagementSummary(number: 1, partner: "nowrap:b", status: .inProgress)])
    #expect(text.contains("participant P0 as wrap#58;a\n"))
    #expect(text.contains("participant P1 as nowrap#58;b\n"))
    #expect(text.contains("P1->>P0: 3 wrap#58;n1 “wrap#58; this” added"))
    #expect(text.contains("engagement 1 → nowrap#58;b"))
    // Outside the arrows' own `: ` separators, no colon from the history is left.
    #expect(!text.contains("wrap:"))
  }

  @Test func theProjectionTellsEngagementsAndTitles() throws {
    let e = EventBuilder()
    let ticket = try Ticket([
      e.outsourced("bolt"), e.added("n1", by: "acme", .note, text: "Server room B, rack 4"), e.declined(),
      e.outsourced("cato"), e.accepted(by: "cato"), e.added("t1", by: "cato", .time, title: "Diagnosis"),
      e.added("a1", by: "cato", .attachment, name: "photo.jpg"), e.added("c1", by: "cato", .charge),
      e.deleted("t1", by: "cato"),
    ])
    let projection = ticket.projection
    #expect(
      projection.engagementSummaries == [
        EngagementSummary(number: 1, partner: "bolt", status: .declined),
        EngagementSummary(number: 2, partner: "cato", status: .inProgress),
      ])
    // A deleted entry keeps its title; an entry without title, name or text has none.
    #expect(projection.entryTitles == ["n1": "Server room B, rack 4", "t1": "Diagnosis", "a1": "photo.jpg"])
    let lines = AuditDiagram.mermaid(
      ticket: "T-1", lead: projection.lead, partners: Array(projection.partners.dropFirst()),
      decisions: projection.decisions, titles: projection.entryTitles, engagements: projection.engagementSummaries
    ).split(separator: "\n").map(String.init)
    #expect(lines.contains { $0.hasSuffix("n1 “Server room B, rack…”: synced [copied-at-acceptance]") })
    #expect(lines.contains { $0.contains(" c1 (charge) added: synced") })
    #expect(lines.contains("  Note over P0,P2: handover from bolt · engagement 2 → cato · in progress"))
  }
}
