import Foundation
import PartnerSync
import Testing

/// One acceptance scenario folder: `events.jsonl` and `expect.json`.
struct Scenario: Sendable, CustomTestStringConvertible {
  /// `golden` for the project's own (`Tests/Scenarios`), `shared` for `../shared/scenarios`.
  var set: String
  var folder: URL

  var name: String { folder.lastPathComponent }
  var testDescription: String { "\(set)/\(name)" }

  /// The scenario folders directly inside `root`, by name; none when `root` does not exist.
  static func folders(in root: URL, set: String) -> [Scenario] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
    return names.sorted().map { Scenario(set: set, folder: root.appendingPathComponent($0)) }.filter {
      FileManager.default.fileExists(atPath: $0.folder.appendingPathComponent("expect.json").path)
    }
  }

  /// The tickets that the scenario's events name, in order of first appearance.
  func tickets() throws -> [String] {
    let text = try String(contentsOf: folder.appendingPathComponent("events.jsonl"), encoding: .utf8)
    var tickets: [String] = []
    for line in text.split(whereSeparator: \.isNewline) {
      if let ticket = try ScenarioJSON.parse(String(line))["ticket"]?.string, !tickets.contains(ticket) {
        tickets.append(ticket)
      }
    }
    return tickets
  }

  func expectation() throws -> ScenarioJSON {
    try ScenarioJSON.parse(String(contentsOf: folder.appendingPathComponent("expect.json"), encoding: .utf8))
  }
}

/// Every acceptance scenario, run through the built command line: the project's own golden
/// scenarios in `Tests/Scenarios` always, and the shared ones in `../shared/scenarios` (or
/// `$PARTNERSYNC_SCENARIOS`) when that folder exists.
@Suite struct ScenarioTests {
  static let goldenRoot = CLI.packageRoot.appendingPathComponent("Tests/Scenarios")

  static let sharedRoot: URL = {
    if let path = ProcessInfo.processInfo.environment["PARTNERSYNC_SCENARIOS"] {
      return URL(fileURLWithPath: path)
    }
    return CLI.packageRoot.deletingLastPathComponent().appendingPathComponent("shared/scenarios")
  }()

  static let golden = Scenario.folders(in: goldenRoot, set: "golden")
  static let all = golden + Scenario.folders(in: sharedRoot, set: "shared")
  /// The scenarios whose import succeeds.
  static let importable = all.filter { (try? $0.expectation())?["reject"] == nil }

  @Test(arguments: all)
  func scenarioHolds(_ scenario: Scenario) throws {
    let failures = try ScenarioChecker.check(scenario.folder)
    for failure in failures {
      Issue.record("\(failure)")
    }
  }

  @Test func goldenScenariosArePresent() {
    #expect(Self.golden.count >= 11, "expected the golden scenarios in \(Self.goldenRoot.path)")
  }

  /// Together the golden scenarios expect every rule id somewhere (a decision's rule or transform,
  /// or a notification), and at least one refused import.
  @Test func goldenScenariosNameEveryRule() throws {
    var named: Set<String> = []
    var refusals = 0
    for scenario in Self.golden {
      let expect = try scenario.expectation()
      if expect["reject"] != nil { refusals += 1 }
      for audit in expect["audit"]?.array ?? [] {
        for decision in audit["decisions"]?.array ?? [] {
          if let rule = decision["rule"]?.string { named.insert(rule) }
          for transform in decision["transforms"]?.array ?? [] {
            if let rule = transform.string { named.insert(rule) }
          }
        }
      }
      for notifications in expect["notifications"]?.array ?? [] where !(notifications["expect"]?.array ?? []).isEmpty {
        if let rule = notifications["rule"]?.string { named.insert(rule) }
      }
    }
    let missing = RuleID.allCases.map(\.rawValue).filter { !named.contains($0) }
    #expect(missing.isEmpty, "no golden scenario expects \(missing)")
    #expect(refusals >= 1, "no golden scenario expects a refused import")
  }

  /// At one position the notifications come in DOMAIN.md's order: status first (lead first), then
  /// one per decision in decision order, a change's synced notice before its time notice. (The
  /// scenario format checks the order of one rule's notifications only.)
  @Test(arguments: [
    (
      "02-partner-items-reach-lead", 6,
      ["synced-change-notifies-partner t1 acme", "subcontractor-time-notifies-resource t1 acme"]
    ),
    (
      "05-rejection-releases-what-still-passes", 11,
      [
        "outsourcing-notifies-primary-contact - bolt", "synced-change-notifies-partner n3 bolt",
        "synced-change-notifies-partner t1 acme",
      ]
    ),
    (
      "04-held-withdrawal-dropped", 10,
      ["outsourcing-notifies-primary-contact - acme", "outsourcing-notifies-primary-contact - bolt"]
    ),
  ])
  func notificationsAtOnePositionComeInOrder(_ name: String, _ position: Int, _ expected: [String]) throws {
    let folder = Self.goldenRoot.appendingPathComponent(name)
    try withTemporaryDirectory { dir in
      let db = dir.appendingPathComponent("log.sqlite")
      let imported = try CLI.run(["--db", db.path, "import", folder.appendingPathComponent("events.jsonl").path])
      try #require(imported.code == 0, "\(imported.err)")
      let outbox = try ScenarioChecker.json(["notifications", "T-1"], db: db.path)
      let atPosition = (outbox["notifications"]?.array ?? []).filter {
        $0["position"] == .number(Double(position))
      }
      let got = atPosition.map {
        "\($0["rule"]?.string ?? "?") \($0["entry"]?.string ?? "-") \($0["partner"]?.string ?? "?")"
      }
      #expect(got == expected)
    }
  }

  /// Export, import into a new log, export again: the same lines, and the same audit.
  @Test(arguments: importable)
  func exportImportRoundTrip(_ scenario: Scenario) throws {
    let tickets = try scenario.tickets()
    try withTemporaryDirectory { dir in
      let first = dir.appendingPathComponent("first.sqlite").path
      let second = dir.appendingPathComponent("second.sqlite").path
      let events = scenario.folder.appendingPathComponent("events.jsonl")
      #expect(try CLI.run(["--db", first, "import", events.path]).code == 0)
      let exported = try CLI.run(["--db", first, "export"])
      #expect(exported.code == 0)
      #expect(try CLI.run(["--db", second, "import", "-"], stdin: Data(exported.out.utf8)).code == 0)
      let again = try CLI.run(["--db", second, "export"])
      #expect(again.out == exported.out)
      #expect(!again.out.isEmpty)
      // The audit survives the round trip too.
      #expect(!tickets.isEmpty)
      for ticket in tickets {
        let audit1 = try CLI.run(["--db", first, "audit", ticket, "--format", "json"])
        let audit2 = try CLI.run(["--db", second, "audit", ticket, "--format", "json"])
        #expect(audit1.code == 0)
        #expect(audit1.out == audit2.out)
      }
    }
  }
}
