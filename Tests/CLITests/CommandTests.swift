import Foundation
import Testing

/// The commands of the contract: their output, their exit codes, and that failures change nothing.
@Suite struct CommandTests {
  static let history = """
    {"type":"outsourced","ticket":"T-1","by":"acme","partner":"bolt","resource":"dana","at":"2026-03-02T09:00:00Z"}
    {"type":"accepted","ticket":"T-1","by":"bolt","at":"2026-03-02T09:10:00Z"}
    {"type":"entry-added","ticket":"T-1","by":"acme","entry":"n1","kind":"note","text":"Jams","at":"2026-03-02T09:20:00Z"}

    {"type":"entry-added","ticket":"T-1","by":"bolt","entry":"t1","kind":"time","hours":1.5,"at":"2026-03-02T09:30:00Z"}
    """

  func withImportedLog<T>(_ body: (URL, URL) throws -> T) throws -> T {
    try withTemporaryDirectory { dir in
      let file = dir.appendingPathComponent("history.jsonl")
      try Self.history.write(to: file, atomically: true, encoding: .utf8)
      let db = dir.appendingPathComponent("log.sqlite")
      let result = try CLI.run(["--db", db.path, "import", file.path])
      #expect(result.code == 0, "\(result.err)")
      #expect(result.out.contains("4 events"), "\(result.out)")
      #expect(result.out.contains("1–4"), "\(result.out)")
      return try body(dir, db)
    }
  }

  @Test func importPrintsCountAndPositionsAsJSON() throws {
    try withTemporaryDirectory { dir in
      let db = dir.appendingPathComponent("log.sqlite")
      let result = try CLI.run(
        ["--db", db.path, "import", "-", "--format", "json"], stdin: Data(Self.history.utf8))
      #expect(result.code == 0)
      let object = try #require(try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any])
      #expect(object["imported"] as? Int == 4)
      #expect(object["firstPosition"] as? Int == 1)
      #expect(object["lastPosition"] as? Int == 4)
    }
  }

  @Test func viewAuditNotificationsLogAndVerify() throws {
    try withImportedLog { _, db in
      let view = try CLI.json(["view", "T-1", "--as", "acme"], db: db)
      #expect(view["role"] as? String == "lead")
      #expect(view["status"] as? String == "in-progress")
      #expect(view["position"] as? Int == 4)
      let entries = try #require(view["entries"] as? [[String: Any]])
      #expect(entries.map { $0["id"] as? String } == ["n1", "t1"])
      #expect(entries[1]["hours"] as? Double == 1.5)

      let early = try CLI.json(["view", "T-1", "--as", "bolt", "--at", "2026-03-02T09:15:00Z"], db: db)
      #expect(early["position"] as? Int == 2)
      #expect((early["entries"] as? [Any])?.isEmpty == true)

      let audit = try CLI.json(["audit", "T-1", "--entry", "t1"], db: db)
      let decisions = try #require(audit["decisions"] as? [[String: Any]])
      #expect(decisions.count == 1)
      #expect(decisions.first?["rule"] as? String == "own-change-syncs")
      #expect((decisions.first?["because"] as? String)?.isEmpty == false)

      // As of position 3, before t1 (position 4): the decisions up to there, none about t1.
      let whole = try #require(try CLI.json(["audit", "T-1"], db: db)["decisions"] as? [[String: Any]])
      let atThree = try #require(try CLI.json(["audit", "T-1", "--at", "3"], db: db)["decisions"] as? [[String: Any]])
      #expect(whole.contains { $0["entry"] as? String == "t1" })
      #expect(!atThree.isEmpty)
      #expect(atThree.allSatisfy { ($0["position"] as? Int ?? 99) <= 3 })
      #expect(atThree.count == whole.filter { ($0["position"] as? Int ?? 99) <= 3 }.count)

      let outbox = try CLI.json(["notifications", "T-1"], db: db)
      let notes = try #require(outbox["notifications"] as? [[String: Any]])
      #expect(
        notes.contains {
          $0["rule"] as? String == "subcontractor-time-notifies-resource" && $0["to"] as? String == "dana"
        })

      let log = try CLI.json(["log"], db: db)
      #expect((log["events"] as? [Any])?.count == 4)

      let verify = try CLI.run(["--db", db.path, "verify"])
      #expect(verify.code == 0)
      #expect(verify.out.contains("4 events"))

      let replay = try CLI.json(["replay"], db: db)
      #expect(replay["events"] as? Int == 4)
      #expect(replay["tickets"] as? Int == 1)
    }
  }

  @Test func textOutputIsATableForPeople() throws {
    try withImportedLog { _, db in
      let view = try CLI.run(["--db", db.path, "view", "T-1", "--as", "bolt"])
      #expect(view.code == 0)
      #expect(view.out.contains("ENTRY"))
      #expect(view.out.contains("n1"))
      let audit = try CLI.run(["--db", db.path, "audit", "T-1"])
      #expect(audit.out.contains("own-change-syncs"))
    }
  }

  struct ExitCase: CustomTestStringConvertible, Sendable {
    var arguments: [String]
    var code: Int32
    var says: String
    var testDescription: String { arguments.joined(separator: " ") }
  }

  static let exitCases: [ExitCase] = [
    ExitCase(arguments: ["view", "T-1", "--as", "acme", "--at", "0"], code: 64, says: "outside the log"),
    ExitCase(arguments: ["view", "T-1", "--as", "acme", "--at", "99"], code: 64, says: "outside the log"),
    ExitCase(arguments: ["audit", "T-1", "--at", "99"], code: 64, says: "outside the log"),
    ExitCase(arguments: ["view", "T-1", "--as", "acme", "--at", "yesterday"], code: 64, says: "RFC 3339"),
    ExitCase(
      arguments: ["view", "T-1", "--as", "acme", "--at", "1999-01-01T00:00:00Z"], code: 64, says: "before"),
    ExitCase(arguments: ["view", "T-9", "--as", "acme"], code: 66, says: "T-9"),
    ExitCase(arguments: ["view", "T-1", "--as", "zed"], code: 66, says: "zed"),
    ExitCase(arguments: ["view", "T-1", "--as", "bolt", "--engagement", "2"], code: 66, says: "engagement 2"),
    ExitCase(arguments: ["audit", "T-9"], code: 66, says: "T-9"),
    ExitCase(arguments: ["frobnicate"], code: 64, says: "frobnicate"),
    ExitCase(arguments: ["view", "T-1"], code: 64, says: "--as"),
    ExitCase(arguments: ["import", "/nonexistent/file.jsonl"], code: 66, says: "does not exist"),
  ]

  @Test(arguments: exitCases)
  func documentedExitCode(_ c: ExitCase) throws {
    try withImportedLog { _, db in
      let result = try CLI.run(["--db", db.path] + c.arguments)
      #expect(result.code == c.code, "\(result.err)")
      #expect(result.err.lowercased().contains(c.says.lowercased()), "\(result.err)")
      #expect(!result.err.contains("Fatal error"))
    }
  }

  @Test func aMissingLogIsExit66AndIsNotCreated() throws {
    try withTemporaryDirectory { dir in
      let db = dir.appendingPathComponent("absent.sqlite")
      for command in [["view", "T-1", "--as", "acme"], ["export"], ["log"], ["verify"], ["audit", "T-1"]] {
        let result = try CLI.run(["--db", db.path] + command)
        #expect(result.code == 66, "\(command): \(result.err)")
        #expect(result.err.split(separator: "\n").count == 1, "\(result.err)")
      }
      #expect(!FileManager.default.fileExists(atPath: db.path))
    }
  }

  @Test func aFailedImportAppendsNothingAndNamesFileAndLine() throws {
    try withImportedLog { dir, db in
      let before = try Data(contentsOf: db)
      let bad = dir.appendingPathComponent("bad.jsonl")
      try """
      {"type":"entry-added","ticket":"T-1","by":"acme","entry":"n2","kind":"note","text":"fine"}
      {"type":"completion-approved","ticket":"T-1","by":"acme"}
      """.write(to: bad, atomically: true, encoding: .utf8)
      let result = try CLI.run(["--db", db.path, "import", bad.path])
      #expect(result.code == 65)
      #expect(result.err.contains("bad.jsonl:2:"), "\(result.err)")
      #expect(result.err.contains("nothing was imported"))
      #expect(result.err.split(separator: "\n").count == 1)
      let export = try CLI.run(["--db", db.path, "export"])
      #expect(!export.out.contains("n2"))
      #expect(export.out.split(separator: "\n").count == 4)
      #expect(try Data(contentsOf: db) == before)
    }
  }

  @Test func environmentVariableNamesTheLog() throws {
    try withImportedLog { _, db in
      let result = try CLI.run(["view", "T-1", "--as", "bolt"], environment: ["PARTNERSYNC_DB": db.path])
      #expect(result.code == 0, "\(result.err)")
      #expect(result.out.contains("n1"))
    }
  }

  @Test("--min-position: a read of a log that holds the position runs at once; past the log, exit 75 after --wait")
  func minPosition() throws {
    try withImportedLog { _, db in
      let held = try CLI.run([
        "--db", db.path, "--min-position", "4", "view", "T-1", "--as", "bolt", "--format", "json",
      ])
      #expect(held.code == 0, "\(held.err)")
      #expect(held.out.contains("\"position\":4"), "\(held.out)")
      let clock = ContinuousClock()
      let start = clock.now
      let beyond = try CLI.run(["--db", db.path, "--min-position", "5", "--wait", "0.5", "export"])
      let waited = clock.now - start
      #expect(beyond.code == 75, "\(beyond.err)")
      #expect(beyond.out.isEmpty)
      #expect(beyond.err.hasPrefix("error: the log holds positions up to 4, not yet position 5, after waiting 0.5 s"))
      #expect(beyond.err.split(separator: "\n").count == 1, "\(beyond.err)")
      #expect(waited >= .milliseconds(500) && waited < .seconds(4), "gave up after \(waited)")
      let invalid = try CLI.run(["--db", db.path, "--min-position", "0", "log"])
      #expect(invalid.code == 64, "\(invalid.err)")
    }
  }

  @Test func demoNeedsNoSetUpAndCanRunTwice() throws {
    try withTemporaryDirectory { dir in
      let first = try CLI.run(["demo"], in: dir)
      #expect(first.code == 0, "\(first.err)")
      #expect(first.out.contains("DEMO-1001"))
      #expect(first.out.contains("time-bundled-at-completion"))
      #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("partnersync.sqlite").path))
      let second = try CLI.run(["demo"], in: dir)
      #expect(second.code == 0)
      #expect(second.out == first.out)
      let verify = try CLI.run(["verify"], in: dir)
      #expect(verify.code == 0)
    }
  }

  @Test func verifyReportsTamperingWithExit1() throws {
    try withImportedLog { _, db in
      let sql = """
        DROP TRIGGER events_refuse_update;
        UPDATE events SET data = replace(data, 'Jams', 'Jamz') WHERE position = 3;
        """
      try CLI.sqlite3(db, sql)
      let result = try CLI.run(["--db", db.path, "verify"])
      #expect(result.code == 1)
      #expect(result.out.contains("position 3"), "\(result.out)")
      #expect(
        result.err.hasSuffix(
          "the log \(db.path) is damaged from position 3; restore it from a backup or an export.\n"), "\(result.err)")
    }
  }

  @Test func verifyReportsAChangedOutboxWithExit1AndTheRebuild() throws {
    try withImportedLog { _, db in
      try CLI.sqlite3(db, "UPDATE outbox SET data = replace(data, 'bolt', 'bolx')")
      let result = try CLI.run(["--db", db.path, "verify"])
      #expect(result.code == 1)
      #expect(result.err.contains("the outbox of \(db.path) differs from its events from position "), "\(result.err)")
      #expect(
        result.err.hasSuffix("(the events are intact); run partnersync replay --rebuild-outbox.\n"), "\(result.err)")
    }
  }

  @Test func versionAndHelp() throws {
    let version = try CLI.run(["--version"])
    #expect(version.code == 0)
    #expect(!version.out.isEmpty)
    for command in ["import", "export", "log", "view", "audit", "notifications", "replay", "verify", "demo"] {
      let help = try CLI.run([command, "--help"])
      #expect(help.code == 0)
      #expect(help.out.contains("Example"), "\(command) --help has no example")
    }
  }
}
