import Foundation
import PartnerSync
import Testing

/// Logs that cannot be used: `import` (and `view`, where reading is not possible either) exits 66
/// with one line on standard error that names the path and says what to do, and the file stays
/// byte for byte as it was; a missing log or input file is never created.
///
/// A write-protected log (no write bit at all) is refused by `import` even when it runs as root,
/// which SQLite would otherwise let write; `view` still reads it.
@Suite struct UnusableLogTests {
  /// One kind of unusable log: how to make it and what the message must say.
  struct Case: CustomTestStringConvertible, Sendable {
    var name: String
    /// Words the one-line message must contain (besides the path).
    var says: [String]
    /// Whether `view` can still read it.
    var viewable = false
    /// Whether it is a log in WAL mode, which SQLite reads through `-wal` and `-shm` files that
    /// it creates next to it (the log itself stays unchanged).
    var wal = false
    var make: @Sendable (URL) throws -> Void

    var testDescription: String { name }
  }

  static let event = #"{"type":"entry-added","ticket":"T-1","by":"acme","entry":"n1","kind":"note","text":"x"}"#

  /// A PartnerSync log holding one event.
  static func makeLog(_ db: URL) throws {
    let result = try CLI.run(["--db", db.path, "import", "-"], stdin: Data(event.utf8))
    #expect(result.code == 0, "\(result.err)")
  }

  static let cases: [Case] = [
    Case(name: "a text file", says: ["not an event log", "check"]) { db in
      try String(repeating: "this is not a database\n", count: 40).write(to: db, atomically: true, encoding: .utf8)
    },
    Case(name: "a file of random bytes", says: ["not an event log"]) { db in
      var rng = SplitMix64(seed: 66)
      try Data((0..<8192).map { _ in UInt8.random(in: 0...255, using: &rng) }).write(to: db)
    },
    Case(name: "another application's SQLite database", says: ["not an event log", "check"]) { db in
      try CLI.sqlite3(db, "CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine');")
    },
    Case(name: "a SQLite database with another application id", says: ["not an event log"]) { db in
      try CLI.sqlite3(db, "PRAGMA application_id = 42; CREATE TABLE events (position INTEGER PRIMARY KEY);")
    },
    Case(name: "a log of a newer schema", says: ["schema version 99", "upgrade"], wal: true) { db in
      try makeLog(db)
      try CLI.sqlite3(db, "PRAGMA user_version = 99;")
    },
    Case(name: "a write-protected log", says: ["read-only", "chmod"], viewable: true, wal: true) { db in
      try makeLog(db)
      try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: db.path)
    },
  ]

  /// The files next to the log (`-wal`, `-shm`, `-journal`) that exist.
  static func companions(of db: URL) -> [String] {
    ["-wal", "-shm", "-journal"].filter { FileManager.default.fileExists(atPath: db.path + $0) }
  }

  /// Checks one refusal: exit 66 and one line that names the path and says `words`.
  static func expectRefusal(_ result: CLI.Result, path: String, says words: [String], _ context: String) {
    #expect(result.code == 66, "\(context): exit \(result.code): \(result.err)")
    let lines = result.err.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
    #expect(lines.count == 1, "\(context): not one line: \(result.err)")
    #expect(result.err.contains(path), "\(context): the message does not name \(path): \(result.err)")
    for word in words {
      #expect(result.err.contains(word), "\(context): the message does not say '\(word)': \(result.err)")
    }
    #expect(!result.err.contains("SQLite code"), "\(context): a raw SQLite error: \(result.err)")
    #expect(result.out.isEmpty, "\(context): printed \(result.out)")
  }

  @Test("import and view refuse an unusable log with 66 and leave it unchanged", arguments: cases)
  func unusable(_ kind: Case) throws {
    try withTemporaryDirectory { dir in
      let db = dir.appendingPathComponent("team.sqlite")
      try kind.make(db)
      let before = try Data(contentsOf: db)
      let input = dir.appendingPathComponent("events.jsonl")
      try Self.event.replacingOccurrences(of: "n1", with: "n2").write(to: input, atomically: true, encoding: .utf8)

      let imported = try CLI.run(["--db", db.path, "import", input.path])
      Self.expectRefusal(imported, path: db.path, says: kind.says, "import into \(kind.name)")
      #expect(try Data(contentsOf: db) == before, "import changed \(kind.name)")

      let view = try CLI.run(["--db", db.path, "view", "T-1", "--as", "acme", "--format", "json"])
      if kind.viewable {
        #expect(view.code == 0, "view of \(kind.name): \(view.err)")
        #expect(view.out.contains(#""id":"n1""#) && !view.out.contains(#""id":"n2""#), "\(view.out)")
      } else {
        Self.expectRefusal(view, path: db.path, says: kind.says, "view of \(kind.name)")
      }
      #expect(try Data(contentsOf: db) == before, "view changed \(kind.name)")
      if !kind.wal {
        #expect(Self.companions(of: db).isEmpty, "\(kind.name) gained \(Self.companions(of: db))")
      }
      let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
      #expect(!names.contains { $0.contains(".new-") }, "a staging file was left: \(names)")
    }
  }

  @Test(
    "every other reading command refuses it the same way",
    arguments: cases.filter { !$0.viewable }
  )
  func readers(_ kind: Case) throws {
    try withTemporaryDirectory { dir in
      let db = dir.appendingPathComponent("team.sqlite")
      try kind.make(db)
      let before = try Data(contentsOf: db)
      let commands = [
        ["export"], ["log"], ["verify"], ["replay"], ["audit", "T-1"], ["notifications"],
      ]
      for command in commands {
        let result = try CLI.run(["--db", db.path] + command)
        Self.expectRefusal(result, path: db.path, says: kind.says, "\(command[0]) of \(kind.name)")
      }
      #expect(try Data(contentsOf: db) == before, "a reading command changed \(kind.name)")
    }
  }

  @Test("a write-protected log still verifies and exports, and stays unchanged")
  func writeProtectedReaders() throws {
    try withTemporaryDirectory { dir in
      let db = dir.appendingPathComponent("team.sqlite")
      try Self.makeLog(db)
      try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: db.path)
      let before = try Data(contentsOf: db)
      let verify = try CLI.run(["--db", db.path, "verify"])
      #expect(verify.code == 0 && verify.out.hasPrefix("OK: 1 events"), "\(verify.out) \(verify.err)")
      let export = try CLI.run(["--db", db.path, "export"])
      #expect(export.code == 0 && export.out.contains(#""entry":"n1""#), "\(export.err)")
      #expect(try Data(contentsOf: db) == before)
      let attributes = try FileManager.default.attributesOfItem(atPath: db.path)
      #expect(attributes[.posixPermissions] as? Int == 0o444, "the permissions were changed")
    }
  }

  @Test("demo refuses to write its history into a write-protected log, which stays unchanged")
  func writeProtectedDemo() throws {
    try withTemporaryDirectory { dir in
      let db = dir.appendingPathComponent("team.sqlite")
      try Self.makeLog(db)
      try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: db.path)
      let before = try Data(contentsOf: db)
      let demo = try CLI.run(["--db", db.path, "demo"])
      Self.expectRefusal(demo, path: db.path, says: ["read-only", "chmod", "sample history was not written"], "demo")
      #expect(try Data(contentsOf: db) == before, "demo changed the write-protected log")
    }
  }

  @Test("a missing log is not created by view, and a missing input file creates no log")
  func missing() throws {
    try withTemporaryDirectory { dir in
      let db = dir.appendingPathComponent("absent.sqlite")
      let view = try CLI.run(["--db", db.path, "view", "T-1", "--as", "acme"])
      Self.expectRefusal(view, path: db.path, says: ["no log", "import"], "view of a missing log")

      let input = dir.appendingPathComponent("nowhere.jsonl")
      let imported = try CLI.run(["--db", db.path, "import", input.path])
      Self.expectRefusal(imported, path: input.path, says: ["does not exist"], "import of a missing file")
      #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == [], "files were created")
    }
  }

  @Test("an empty file is no log to the reading commands, which leave it empty; import makes it one")
  func emptyFile() throws {
    try withTemporaryDirectory { dir in
      let db = dir.appendingPathComponent("empty.sqlite")
      try Data().write(to: db)
      let commands = [
        ["view", "T-1", "--as", "acme"], ["export"], ["log"], ["verify"], ["replay"], ["audit", "T-1"],
        ["notifications"],
      ]
      for command in commands {
        let result = try CLI.run(["--db", db.path] + command)
        Self.expectRefusal(result, path: db.path, says: ["no log", "import"], "\(command[0]) of an empty file")
      }
      #expect(try Data(contentsOf: db).isEmpty, "a reading command wrote to the empty file")
      #expect(Self.companions(of: db).isEmpty, "the empty file gained \(Self.companions(of: db))")
      try Self.makeLog(db)
      let view = try CLI.run(["--db", db.path, "view", "T-1", "--as", "acme", "--format", "json"])
      #expect(view.code == 0 && view.out.contains(#""id":"n1""#), "\(view.out) \(view.err)")
    }
  }

  @Test("import reads a file that is a pipe: bash's process substitution, <(gunzip -c …)")
  func importFromAPipe() throws {
    try withTemporaryDirectory { dir in
      let db = dir.appendingPathComponent("team.sqlite")
      let out = dir.appendingPathComponent("out")
      let process = Process()
      process.executableURL = URL(fileURLWithPath: "/bin/bash")
      process.arguments = [
        "-c", #"exec "$0" --db "$1" import <(printf '%s\n' "$2")"#, CLI.binary.path, db.path, Self.event,
      ]
      _ = FileManager.default.createFile(atPath: out.path, contents: nil)
      let handle = try FileHandle(forWritingTo: out)
      defer { try? handle.close() }
      process.standardOutput = handle
      process.standardError = handle
      try process.run()
      process.waitUntilExit()
      let said = String(decoding: try Data(contentsOf: out), as: UTF8.self)
      #expect(process.terminationStatus == 0, "\(said)")
      #expect(said.hasPrefix("Imported 1 event from /dev/fd/"), "\(said)")
    }
  }

  @Test("a failed first import creates no log, and leaves no staging file")
  func failedFirstImport() throws {
    try withTemporaryDirectory { dir in
      let db = dir.appendingPathComponent("new.sqlite")
      let bad = Data((Self.event + "\n" + #"{"type":"accepted","ticket":"T-1","by":"bolt"}"#).utf8)
      let result = try CLI.run(["--db", db.path, "import", "-"], stdin: bad)
      #expect(result.code == 65, "\(result.err)")
      #expect(result.err.contains("<stdin>:2:"), "\(result.err)")
      #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == [], "files were created")
    }
  }
}
