import Foundation
import Testing

/// The command line as a new user meets it: the same exit code for the same kind of problem in
/// every command, one line per error with the same start, and numbers within their bounds.
@Suite struct ConsistencyTests {
  /// T-1: acme outsources to bolt, bolt accepts; acme's internal note n1, bolt's time t1 (10000
  /// hours, the most an entry may carry). T-3: acme's note x1, on a ticket not outsourced, so
  /// no decision is about it.
  static let history = """
    {"type":"outsourced","ticket":"T-1","by":"acme","partner":"bolt","at":"2026-03-02T09:00:00Z"}
    {"type":"accepted","ticket":"T-1","by":"bolt","at":"2026-03-02T09:10:00Z"}
    {"type":"entry-added","ticket":"T-1","by":"acme","entry":"n1","kind":"note","visibility":"internal","at":"2026-03-02T09:20:00Z"}
    {"type":"entry-added","ticket":"T-1","by":"bolt","entry":"t1","kind":"time","hours":10000,"at":"2026-03-02T09:30:00Z"}
    {"type":"entry-added","ticket":"T-3","by":"acme","entry":"x1","kind":"note","at":"2026-03-02T09:40:00Z"}
    """

  func withLog<T>(_ body: (URL, URL) throws -> T) throws -> T {
    try withTemporaryDirectory { dir in
      let db = dir.appendingPathComponent("log.sqlite")
      let result = try CLI.run(["--db", db.path, "import", "-"], stdin: Data(Self.history.utf8))
      try #require(result.code == 0, "\(result.err)")
      return try body(dir, db)
    }
  }

  /// Expects exit `code` and one error line that starts with `error: ` and says `says`.
  func expectError(
    _ result: CLI.Result, _ code: Int32, says: [String], sourceLocation: SourceLocation = #_sourceLocation
  ) {
    #expect(result.code == code, "exit \(result.code): \(result.err)", sourceLocation: sourceLocation)
    let lines = result.err.split(separator: "\n")
    #expect(lines.count == 1, "\(result.err)", sourceLocation: sourceLocation)
    #expect(result.err.hasPrefix("error: "), "\(result.err)", sourceLocation: sourceLocation)
    for words in says {
      #expect(result.err.contains(words), "no '\(words)' in: \(result.err)", sourceLocation: sourceLocation)
    }
    #expect(!result.err.contains("Error:") && !result.err.contains("Usage:"), sourceLocation: sourceLocation)
  }

  @Test func exactly10000HoursAreAcceptedAndShownAsANumber() throws {
    try withLog { _, db in
      let view = try CLI.json(["view", "T-1", "--as", "acme"], db: db)
      let entries = try #require(view["entries"] as? [[String: Any]])
      #expect(entries.first { $0["id"] as? String == "t1" }?["hours"] as? Double == 10_000)
      let export = try CLI.run(["--db", db.path, "export"])
      #expect(export.out.contains(#""hours":10000"#), "\(export.out)")
      #expect(!export.out.contains("null"))
    }
  }

  @Test func aBundleAtTheLargestRateIsFinite() throws {
    try withTemporaryDirectory { dir in
      let db = dir.appendingPathComponent("log.sqlite")
      let lines = """
        {"type":"outsourced","ticket":"T-1","by":"acme","partner":"bolt","rate":1000000000}
        {"type":"accepted","ticket":"T-1","by":"bolt"}
        {"type":"entry-added","ticket":"T-1","by":"bolt","entry":"t1","kind":"time","hours":10000}
        {"type":"entry-added","ticket":"T-1","by":"bolt","entry":"t2","kind":"time","hours":10000}
        {"type":"entry-added","ticket":"T-1","by":"bolt","entry":"c1","kind":"charge","amount":-1000000000}
        {"type":"completed","ticket":"T-1","by":"acme"}
        """
      let result = try CLI.run(["--db", db.path, "import", "-"], stdin: Data(lines.utf8))
      try #require(result.code == 0, "\(result.err)")
      let view = try CLI.run(["--db", db.path, "view", "T-1", "--as", "acme", "--format", "json"])
      #expect(view.out.contains(#""amount":20000000000000"#), "\(view.out)")
      #expect(view.out.contains(#""amount":-1000000000"#), "\(view.out)")
      #expect(!view.out.contains("null") && !view.out.contains("inf"), "\(view.out)")
    }
  }

  @Test func aRefusedNumberAppendsNothing() throws {
    try withLog { _, db in
      let line = #"{"type":"entry-added","ticket":"T-1","by":"bolt","entry":"t2","kind":"time","hours":1e400}"#
      let before = try CLI.run(["--db", db.path, "export"]).out
      let result = try CLI.run(["--db", db.path, "import", "-"], stdin: Data(line.utf8))
      expectError(result, 65, says: ["<stdin>:1:", "'hours' must be a number greater than 0 and at most 10000"])
      #expect(try CLI.run(["--db", db.path, "export"]).out == before)
    }
  }

  static let unknown: [[String]] = [
    ["log", "--ticket", "T-9"], ["log", "--ticket", "T-9", "--format", "json"], ["export", "--ticket", "T-9"],
    ["view", "T-9", "--as", "acme"], ["audit", "T-9"], ["notifications", "T-9"],
  ]

  @Test(arguments: unknown)
  func anUnknownTicketIsExit66Everywhere(_ arguments: [String]) throws {
    try withLog { _, db in
      let result = try CLI.run(["--db", db.path] + arguments)
      expectError(result, 66, says: ["ticket T-9 is not in the log"])
      #expect(result.out.isEmpty, "\(result.out)")
    }
  }

  @Test func aKnownTicketIsStillListedAndExported() throws {
    try withLog { _, db in
      let log = try CLI.run(["--db", db.path, "log", "--ticket", "T-1"])
      #expect(log.code == 0 && log.out.contains("entry-added"), "\(log.err)")
      let export = try CLI.run(["--db", db.path, "export", "--ticket", "T-1"])
      #expect(export.code == 0 && export.out.split(separator: "\n").count == 4, "\(export.err)")
      #expect(!export.out.contains("T-3"))
    }
  }

  @Test func auditOfAnEntryTheTicketNeverHadIsExit66() throws {
    try withLog { _, db in
      let missing = try CLI.run(["--db", db.path, "audit", "T-1", "--entry", "n99"])
      expectError(missing, 66, says: ["ticket T-1 has no entry n99"])
      let json = try CLI.run(["--db", db.path, "audit", "T-1", "--entry", "n99", "--format", "json"])
      #expect(json.code == 66 && json.out.isEmpty)
      // x1 exists, and no decision is about it: an empty list, exit 0.
      let silent = try CLI.json(["audit", "T-3", "--entry", "x1"], db: db)
      #expect((silent["decisions"] as? [Any])?.isEmpty == true)
      let text = try CLI.run(["--db", db.path, "audit", "T-3", "--entry", "x1"])
      #expect(text.code == 0 && text.out.contains("No sync decisions for entry x1"), "\(text.out)")
      // An entry of another ticket is not this ticket's.
      expectError(try CLI.run(["--db", db.path, "audit", "T-3", "--entry", "t1"]), 66, says: ["T-3 has no entry t1"])
    }
  }

  @Test func aFolderAsTheLogIsExit66AndSaysSo() throws {
    try withTemporaryDirectory { dir in
      for command in [["view", "T-1", "--as", "acme"], ["log"], ["export"], ["verify"], ["replay"], ["demo"]] {
        let result = try CLI.run(["--db", dir.path] + command)
        expectError(result, 66, says: ["\(dir.path) is a folder, not a log file"])
      }
      let file = dir.appendingPathComponent("events.jsonl")
      try Self.history.write(to: file, atomically: true, encoding: .utf8)
      let result = try CLI.run(["--db", dir.path, "import", file.path])
      expectError(result, 66, says: ["is a folder, not a log file"])
      #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["events.jsonl"])
    }
  }

  @Test func aLogInAFolderThatDoesNotExistIsExit66AndSaysSo() throws {
    try withTemporaryDirectory { dir in
      let folder = dir.appendingPathComponent("missing")
      let db = folder.appendingPathComponent("log.sqlite")
      for command in [["view", "T-1", "--as", "acme"], ["log"], ["audit", "T-1"]] {
        let result = try CLI.run(["--db", db.path] + command)
        expectError(result, 66, says: ["there is no log at \(db.path)", "the folder \(folder.path) does not exist"])
      }
      let file = dir.appendingPathComponent("events.jsonl")
      try Self.history.write(to: file, atomically: true, encoding: .utf8)
      for command in [["import", file.path], ["demo"]] {
        let result = try CLI.run(["--db", db.path] + command)
        expectError(result, 66, says: ["cannot create the log \(db.path)", "the folder \(folder.path) does not exist"])
      }
      #expect(!FileManager.default.fileExists(atPath: folder.path))
      #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["events.jsonl"])
    }
  }

  static let usage: [(arguments: [String], says: String)] = [
    (["view", "T-1", "--as", "acme", "--at", "-3"], "--at -3 is not a position; --at takes a log position"),
    (["view", "T-1", "--as", "acme", "--at", "12.5"], "--at 12.5 is not a position; --at takes a log position"),
    (["view", "T-1", "--as", "acme", "--at", "soon"], "an RFC 3339 time such as 2026-03-02T09:00:00Z"),
    (["view", "T-1", "--as", "bolt", "--engagement", "0"], "--engagement takes an engagement number from 1, not 0"),
    (["view", "T-1", "--as", "bolt", "--engagement", "-2"], "--engagement takes an engagement number from 1, not -2"),
    (["view", "T-1", "--as", "bolt", "--engagement", "two"], "'two'"),
    (["view", "T-1"], "--as"),
    (["view", "T-1", "--as", "acme", "--colour", "red"], "--colour"),
    (["frobnicate"], "frobnicate"),
    (["--wait", "-1", "log"], "--wait"),
  ]

  @Test(arguments: usage)
  func wrongUsageIsExit64OnOneLine(_ c: (arguments: [String], says: String)) throws {
    try withLog { _, db in
      let result = try CLI.run(["--db", db.path] + c.arguments)
      expectError(result, 64, says: [c.says, "--help"])
    }
  }

  @Test func everyErrorStartsTheSameWay() throws {
    try withLog { dir, db in
      let failures: [[String]] = [
        ["view", "T-1", "--as", "acme", "--at", "99"],
        ["view", "T-1", "--as", "zed"],
        ["audit", "T-9"],
        ["import", dir.appendingPathComponent("absent.jsonl").path],
        ["view", "T-1", "--as", "acme", "--at", "nonsense"],
        ["view"],
      ]
      for arguments in failures {
        let result = try CLI.run(["--db", db.path] + arguments)
        #expect(result.code != 0)
        #expect(result.err.hasPrefix("error: "), "\(arguments): \(result.err)")
        #expect(result.err.split(separator: "\n").count == 1, "\(arguments): \(result.err)")
      }
      let absent = try CLI.run(["--db", dir.appendingPathComponent("none.sqlite").path, "log"])
      #expect(absent.err.hasPrefix("error: "), "\(absent.err)")
    }
  }

  @Test func helpAndVersionStillSucceedOnStandardOutput() throws {
    let help = try CLI.run(["view", "--help"])
    #expect(help.code == 0 && help.out.contains("--at") && help.err.isEmpty, "\(help.err)")
    let version = try CLI.run(["--version"])
    #expect(version.code == 0 && !version.out.isEmpty)
  }

  @Test func eventTypesAndKindsTakeTheRightArticle() throws {
    try withLog { _, db in
      let outsourced = #"{"type":"outsourced","ticket":"T-2","by":"acme"}"#
      let result = try CLI.run(["--db", db.path, "import", "-"], stdin: Data(outsourced.utf8))
      expectError(result, 65, says: ["an outsourced event needs 'partner'"])
      let attachment = #"{"type":"entry-added","ticket":"T-1","by":"acme","entry":"a1","kind":"attachment","hours":1}"#
      let kind = try CLI.run(["--db", db.path, "import", "-"], stdin: Data(attachment.utf8))
      expectError(kind, 65, says: ["does not belong to an attachment entry"])
      let unknown = #"{"type":"accepted","ticket":"T-1","by":"bolt","colour":"red"}"#
      let field = try CLI.run(["--db", db.path, "import", "-"], stdin: Data(unknown.utf8))
      expectError(field, 65, says: ["unknown field 'colour' for an accepted event"])
    }
  }
}
