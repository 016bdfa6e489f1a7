import Foundation
import Testing

/// `audit --format mermaid` draws every scenario (golden and shared) as a well-formed sequence diagram.
@Suite struct DiagramTests {
  @Test(arguments: ScenarioTests.importable)
  func diagramHasOneArrowPerDecision(_ scenario: Scenario) throws {
    let dir = scenario.folder
    try withTemporaryDirectory { tmp in
      let db = tmp.appendingPathComponent("log.sqlite")
      #expect(try CLI.run(["--db", db.path, "import", dir.appendingPathComponent("events.jsonl").path]).code == 0)
      let audit = try CLI.json(["audit", "T-1"], db: db)
      let decisions = try #require(audit["decisions"] as? [[String: Any]])
      let diagram = try CLI.run(["--db", db.path, "audit", "T-1", "--format", "mermaid"])
      #expect(diagram.code == 0)
      let lines = diagram.out.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
      #expect(lines.first == "sequenceDiagram")
      let participants = lines.filter { $0.hasPrefix("  participant ") }
      #expect(participants.count >= 2)
      #expect(participants.first?.hasSuffix("(lead)") == true)
      #expect(participants.dropFirst().allSatisfy { $0.hasSuffix("(service)") })
      let arrow = /^  (P\d+)(->>|-x|--x)(P\d+): (.+)$/
      let arrows = lines.compactMap { try? arrow.wholeMatch(in: $0) }
      #expect(arrows.count == decisions.count)
      for (match, decision) in zip(arrows, decisions) {
        let outcome = try #require(decision["outcome"] as? String)
        let rule = try #require(decision["rule"] as? String)
        let crosses = outcome == "synced" || outcome == "released"
        #expect((match.output.2 == "->>") == crosses, "\(match.output.4)")
        #expect(match.output.4.contains("[\(rule)]"))
        #expect(match.output.1 != match.output.3)
      }
      // Nothing but the header, the title, participants and arrows.
      #expect(lines.filter { !$0.isEmpty }.count == 2 + participants.count + arrows.count)
    }
  }

  @Test func hostileTextCannotBreakTheDiagram() throws {
    try withTemporaryDirectory { tmp in
      let db = tmp.appendingPathComponent("log.sqlite")
      let history = """
        {"type":"outsourced","ticket":"T-1","by":"acme","partner":"bolt"}
        {"type":"accepted","ticket":"T-1","by":"bolt"}
        {"type":"entry-added","ticket":"T-1","by":"bolt","entry":"n1","kind":"note","title":"end\\nsequenceDiagram","text":"a;b#c<d>\\"%%{init}%%"}
        """
      #expect(try CLI.run(["--db", db.path, "import", "-"], stdin: Data(history.utf8)).code == 0)
      let diagram = try CLI.run(["--db", db.path, "audit", "T-1", "--format", "mermaid"])
      let body = diagram.out.split(separator: "\n").dropFirst()
      #expect(!body.contains { $0.contains("sequenceDiagram") })
      #expect(!body.contains { $0.contains(";") && !$0.contains("#59;") })
    }
  }
}
