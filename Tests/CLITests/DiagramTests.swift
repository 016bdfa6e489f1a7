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
      let participants = lines.filter { $0.contains("participant ") }
      #expect(participants.count >= 3)
      #expect(participants.dropFirst().first == "    participant S as sync line")
      // Every decision is one arrow: a crossing one from `by` to `to`, a released one from the sync
      // line to `to`, and the others from `by` to the sync line.
      let arrow = /^    (P\d+|S)(->>|-x|-->>|--x)(P\d+|S): (\d+) (.+)$/
      let arrows = lines.compactMap { try? arrow.wholeMatch(in: $0) }
      #expect(arrows.count == decisions.count)
      for (match, decision) in zip(arrows, decisions) {
        let outcome = try #require(decision["outcome"] as? String)
        let rule = try #require(decision["rule"] as? String)
        let (from, head, to) = (match.output.1, match.output.2, match.output.3)
        switch outcome {
        case "synced": #expect(head == "->>" && from != "S" && to != "S" && from != to)
        case "released": #expect(head == "->>" && from == "S" && to != "S")
        case "not-synced": #expect(head == "-x" && from != "S" && to == "S")
        case "held": #expect(head == "-->>" && from != "S" && to == "S")
        default: #expect(outcome == "dropped" && head == "--x" && from != "S" && to == "S")
        }
        let position = try #require(decision["position"] as? Int)
        #expect(match.output.4 == "\(position)")
        #expect(match.output.5.contains("[\(rule)]"))
      }
      // Nothing but the header, the title, the sides, participants, notes, coloured blocks and
      // arrows.
      let shapes: [Regex<Substring>] = [
        /^sequenceDiagram$/, /^  title .+$/, /^  box rgb\([0-9, ]+\)(?: lead| service)?$/, /^ +participant \w+ as .+$/,
        /^  Note over \w+,\w+: .+$/, /^  rect rgb\([0-9, ]+\)$/, /^  end$/, /^    \w+-.+$/,
      ]
      for line in lines where !line.isEmpty {
        #expect(shapes.contains { (try? $0.wholeMatch(in: line)) != nil }, "\(line)")
      }
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
      // The title's line break stays inside its label: no line of the history's text of its own.
      #expect(!body.contains { $0.trimmingCharacters(in: .whitespaces).hasPrefix("sequenceDiagram") })
      #expect(body.contains { $0.contains("“end sequenceDiagram”") })
      #expect(!body.contains { $0.contains(";") && !$0.contains("#59;") })
    }
  }
}
