import Testing

@testable import PartnerSync

@Suite struct AuditDiagramTests {
  @Test(arguments: [
    ("a;b", "a#59;b"), ("x#y", "x#35;y"), ("<b>", "#60;b#62;"), ("say \"hi\"", "say #34;hi#34;"),
    ("line1\nline2", "line1 line2"), ("%%{init}%%", "#37;#37;#123;init#125;#37;#37;"), ("plain-id_1.2", "plain-id_1.2"),
  ])
  func escapeNeutralisesMermaidSyntax(_ pair: (String, String)) {
    #expect(AuditDiagram.escape(pair.0) == pair.1)
  }

  @Test func arrowsFollowOutcomes() {
    let decisions = [
      SyncDecision(
        position: 3, event: .entryAdded, entry: "n1", kind: .note, by: "bolt", to: "acme", outcome: .synced,
        rule: .ownChangeSyncs, engagement: 1),
      SyncDecision(
        position: 4, event: .entryAdded, entry: "n2", kind: .note, by: "bolt", to: "acme", outcome: .held,
        rule: .suspendedWaitingApproval, engagement: 1),
      SyncDecision(
        position: 5, event: .entryEdited, entry: "n3", kind: .note, by: "acme", to: "bolt", outcome: .notSynced,
        rule: .internalNeverSyncs, engagement: 1),
    ]
    let text = AuditDiagram.mermaid(ticket: "T-1", lead: "acme", partners: ["bolt"], decisions: decisions)
    let lines = text.split(separator: "\n").map(String.init)
    #expect(lines[0] == "sequenceDiagram")
    #expect(lines.contains("  participant P0 as acme (lead)"))
    #expect(lines.contains("  participant P1 as bolt (service)"))
    #expect(lines.contains("  P1->>P0: 3 entry-added n1: synced [own-change-syncs]"))
    #expect(lines.contains("  P1--xP0: 4 entry-added n2: held [suspended-waiting-approval]"))
    #expect(lines.contains("  P0-xP1: 5 entry-edited n3: not-synced [internal-never-syncs]"))
  }
}
