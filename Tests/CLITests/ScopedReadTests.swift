import Foundation
import Testing

/// `--as PARTNER` on `audit`, `notifications` and `export`: reads scoped to one partner.
@Suite struct ScopedReadTests {
  /// acme's internal note, bolt's engagement, then crane's engagement on the same ticket.
  static let history = """
    {"type":"entry-added","ticket":"T-1","by":"acme","entry":"secret","kind":"note","text":"hush-hush","visibility":"internal"}
    {"type":"entry-added","ticket":"T-1","by":"acme","entry":"n1","kind":"note","text":"Jams"}
    {"type":"outsourced","ticket":"T-1","by":"acme","partner":"bolt","resource":"dana"}
    {"type":"accepted","ticket":"T-1","by":"bolt"}
    {"type":"entry-added","ticket":"T-1","by":"bolt","entry":"b1","kind":"note","text":"bolt-private","visibility":"internal"}
    {"type":"entry-added","ticket":"T-1","by":"bolt","entry":"t1","kind":"time","hours":1.5}
    {"type":"completed","ticket":"T-1","by":"acme"}
    {"type":"outsourced","ticket":"T-1","by":"acme","partner":"crane"}
    {"type":"accepted","ticket":"T-1","by":"crane"}
    {"type":"entry-added","ticket":"T-1","by":"crane","entry":"c1","kind":"note","text":"from-crane"}
    {"type":"entry-added","ticket":"T-2","by":"zed","entry":"z1","kind":"note","text":"zed-only"}
    """

  func withLog<T>(_ body: (URL) throws -> T) throws -> T {
    try withTemporaryDirectory { dir in
      let db = dir.appendingPathComponent("log.sqlite")
      let result = try CLI.run(["--db", db.path, "import", "-"], stdin: Data(Self.history.utf8))
      #expect(result.code == 0, "\(result.err)")
      return try body(db)
    }
  }

  /// Runs a command on `db`, expecting success; its standard output.
  func output(_ arguments: [String], db: URL) throws -> String {
    let result = try CLI.run(["--db", db.path] + arguments)
    #expect(result.code == 0, "\(arguments) exited \(result.code): \(result.err)")
    return result.out
  }

  @Test func auditAsPartnerShowsOnlyWhatItMayKnow() throws {
    try withLog { db in
      let bolt = try CLI.json(["audit", "T-1", "--as", "bolt"], db: db)
      let decisions = try #require(bolt["decisions"] as? [[String: Any]])
      #expect(decisions.map { $0["entry"] as? String } == ["n1", "b1", "t1"])
      for format in ["text", "json", "mermaid"] {
        let out = try output(["audit", "T-1", "--as", "bolt", "--format", format], db: db)
        for hidden in ["secret", "hush-hush", "crane", "c1", "bundle-1", "engagement 2"] {
          #expect(!out.contains(hidden), "audit --as bolt --format \(format) names \(hidden)")
        }
      }
      let crane = try output(["audit", "T-1", "--as", "crane", "--format", "mermaid"], db: db)
      for hidden in ["secret", "bolt", "b1", "t1", "bundle-1"] {
        #expect(!crane.contains(hidden), "audit --as crane --format mermaid names \(hidden)")
      }
      // The lead sees its own internal note's decisions, not bolt's internal note.
      let acme = try output(["audit", "T-1", "--as", "acme", "--format", "json"], db: db)
      #expect(acme.contains("\"secret\"") && acme.contains("bundle-1") && acme.contains("crane"))
      #expect(!acme.contains("\"b1\""))
      // Without --as: every decision, as before.
      let all = try CLI.json(["audit", "T-1"], db: db)
      #expect((all["decisions"] as? [Any])?.count ?? 0 > decisions.count)
      #expect(try output(["audit", "T-1", "--format", "json"], db: db).contains("\"b1\""))
    }
  }

  @Test func auditAsPartnerOfAnEntryItNeverHeld() throws {
    try withLog { db in
      let hidden = try CLI.run(["--db", db.path, "audit", "T-1", "--entry", "secret", "--as", "bolt"])
      let missing = try CLI.run(["--db", db.path, "audit", "T-1", "--entry", "nope", "--as", "bolt"])
      #expect(hidden.code == 66 && missing.code == 66)
      #expect(hidden.err == missing.err.replacingOccurrences(of: "nope", with: "secret"))
      #expect(hidden.out.isEmpty)
    }
  }

  @Test func ticketNeverEngagedIsReportedAsMissing() throws {
    try withLog { db in
      for command in [["audit", "T-1"], ["notifications", "T-1"], ["export", "--ticket", "T-1"]] {
        let never = try CLI.run(["--db", db.path] + command + ["--as", "zed"])
        let missing = try CLI.run(
          ["--db", db.path] + command.map { $0 == "T-1" ? "T-9" : $0 } + ["--as", "zed"])
        #expect(never.code == 66 && missing.code == 66, "\(command)")
        #expect(never.err == missing.err.replacingOccurrences(of: "T-9", with: "T-1"), "\(command)")
        #expect(never.out.isEmpty)
      }
    }
  }

  @Test func notificationsAsPartner() throws {
    try withLog { db in
      let bolt = try CLI.json(["notifications", "--as", "bolt"], db: db)
      let notifications = try #require(bolt["notifications"] as? [[String: Any]])
      #expect(!notifications.isEmpty)
      #expect(notifications.allSatisfy { $0["partner"] as? String == "bolt" })
      let text = try output(["notifications", "--as", "bolt"], db: db)
      for hidden in ["crane", "c1", "secret", "zed"] { #expect(!text.contains(hidden)) }
      let crane = try output(["notifications", "T-1", "--as", "crane", "--format", "json"], db: db)
      #expect(!crane.contains("bolt") && !crane.contains("engagement 1"))
      // Without --as: the whole outbox.
      let all = try CLI.json(["notifications"], db: db)
      #expect((all["notifications"] as? [Any])?.count ?? 0 > notifications.count)
    }
  }

  @Test func exportAsPartnerHoldsItsOwnEvents() throws {
    try withLog { db in
      let lines = try output(["export", "--as", "bolt"], db: db).split(separator: "\n")
      #expect(lines.count == 3)
      #expect(lines.allSatisfy { $0.contains("\"by\":\"bolt\"") })
      #expect(lines.first?.contains("\"position\":4") == true)
      #expect(try output(["export", "--ticket", "T-1", "--as", "bolt"], db: db).split(separator: "\n") == lines)
      #expect(try output(["export", "--as", "zed"], db: db).contains("zed-only"))
      #expect(try output(["export"], db: db).split(separator: "\n").count == 11)
    }
  }
}
