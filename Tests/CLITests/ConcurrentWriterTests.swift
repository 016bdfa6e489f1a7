import Foundation
import Testing

/// Several `partnersync import` processes write to one log, and to one ticket, at the same time.
///
/// What a writer may see: exit 0 (appended; a version conflict on the way was resolved by
/// validating again), or exit 75 with one line that says nothing was appended and to run the
/// command again (the log stayed busy past the 5 s busy timeout, or the ticket kept changing
/// through every retry). A refused event after re-validation is exit 65. Never a raw SQLite
/// message, never a lost or duplicated position.
@Suite(.serialized) struct ConcurrentWriterTests {
  static let writers = 6
  static let importsPerWriter = 8
  static let entriesPerImport = 10

  /// Collects results from several threads.
  final class Results<Value>: @unchecked Sendable {
    // @unchecked: every access holds `lock`.
    private let lock = NSLock()
    private var values: [Value] = []

    func append(_ value: Value) {
      lock.lock()
      defer { lock.unlock() }
      values.append(value)
    }

    var all: [Value] {
      lock.lock()
      defer { lock.unlock() }
      return values
    }
  }

  struct Attempt {
    var writer: Int
    var index: Int
    var ids: [String]
    var result: CLI.Result
  }

  /// acme's notes: `entriesPerImport` on the shared ticket T-1 and as many on the writer's own
  /// ticket `W<writer>`, each with a unique id.
  static func batch(writer: Int, index: Int) -> (lines: String, ids: [String]) {
    var lines: [String] = []
    var ids: [String] = []
    for k in 0..<entriesPerImport {
      for ticket in ["T-1", "W\(writer)"] {
        let id = "w\(writer)-i\(index)-\(ticket == "T-1" ? "s" : "o")\(k)"
        ids.append(id)
        lines.append(
          #"{"type":"entry-added","ticket":"\#(ticket)","by":"acme","entry":"\#(id)","kind":"note","text":"\#(id)"}"#)
      }
    }
    return (lines.joined(separator: "\n") + "\n", ids)
  }

  /// Positions, per-ticket versions and entry ids of the whole log, after checking it verifies.
  static func inspect(_ db: URL) throws -> (positions: [Int], versions: [String: [Int]], ids: Set<String>) {
    let verify = try CLI.run(["--db", db.path, "verify"])
    #expect(verify.code == 0 && verify.out.hasPrefix("OK"), "verify: \(verify.out) \(verify.err)")
    let log = try CLI.json(["log"], db: db)
    let events = try #require(log["events"] as? [[String: Any]])
    var positions: [Int] = []
    var versions: [String: [Int]] = [:]
    var ids: Set<String> = []
    for event in events {
      positions.append(try #require(event["position"] as? Int))
      versions[try #require(event["ticket"] as? String), default: []].append(try #require(event["version"] as? Int))
      if let id = event["entry"] as? String { ids.insert(id) }
    }
    let exported = try CLI.run(["--db", db.path, "export"]).out.split(separator: "\n")
    #expect(exported.count == events.count, "export and log disagree")
    return (positions, versions, ids)
  }

  @Test("6 processes × 8 imports on one ticket: gap-free positions and versions, nothing lost")
  func manyWritersOneTicket() throws {
    try withTemporaryDirectory { dir in
      let db = dir.appendingPathComponent("shared.sqlite")
      let base = dir.appendingPathComponent("base.jsonl")
      try #"{"type":"entry-added","ticket":"T-1","by":"acme","entry":"base","kind":"note","text":"start"}"#
        .write(to: base, atomically: true, encoding: .utf8)
      #expect(try CLI.run(["--db", db.path, "import", base.path]).code == 0)

      let attempts = Results<Attempt>()
      DispatchQueue.concurrentPerform(iterations: Self.writers) { writer in
        for index in 0..<Self.importsPerWriter {
          let (lines, ids) = Self.batch(writer: writer, index: index)
          do {
            let result = try CLI.run(["--db", db.path, "import", "-"], stdin: Data(lines.utf8))
            attempts.append(Attempt(writer: writer, index: index, ids: ids, result: result))
          } catch {
            Issue.record("writer \(writer) could not start import \(index): \(error)")
          }
        }
      }

      let all = attempts.all
      #expect(all.count == Self.writers * Self.importsPerWriter)
      let succeeded = all.filter { $0.result.code == 0 }
      let busy = all.filter { $0.result.code == 75 }
      for attempt in all {
        let err = attempt.result.err
        #expect([0, 75].contains(attempt.result.code), "writer \(attempt.writer): exit \(attempt.result.code): \(err)")
        #expect(!err.localizedCaseInsensitiveContains("database is locked"), "raw SQLite message: \(err)")
        if attempt.result.code == 75 {
          #expect(err.split(separator: "\n").count == 1, "not one line: \(err)")
          #expect(err.contains("again") && err.contains("Nothing was appended"), "no advice: \(err)")
        }
      }

      let (positions, versions, ids) = try Self.inspect(db)
      let expected = 1 + succeeded.count * 2 * Self.entriesPerImport
      #expect(positions == Array(1...expected), "positions are not 1…\(expected)")
      for (ticket, list) in versions {
        #expect(list == Array(1...list.count), "\(ticket)'s versions are not 1…\(list.count)")
      }
      for attempt in succeeded {
        let missing = attempt.ids.filter { !ids.contains($0) }
        #expect(missing.isEmpty, "writer \(attempt.writer) import \(attempt.index) succeeded but lost \(missing)")
      }
      for attempt in busy {
        #expect(attempt.ids.allSatisfy { !ids.contains($0) }, "a failed import appended something")
      }
      print("ConcurrentWriterTests: \(succeeded.count) imports succeeded, \(busy.count) exited 75")
    }
  }

  /// bolt's acceptance of P-<pair>, after 2,000 notes on a ticket of this file's own, so that
  /// both processes of a pair are still validating when the other one writes.
  static func acceptance(pair: Int, side: String) -> Data {
    var text = ""
    for k in 0..<2_000 {
      text += #"{"type":"entry-added","ticket":"Q-\#(pair)-\#(side)","by":"bolt","entry":"q\#(k)","kind":"note"}"#
      text += "\n"
    }
    text += #"{"type":"accepted","ticket":"P-\#(pair)","by":"bolt"}"# + "\n"
    return Data(text.utf8)
  }

  @Test("two processes accept the same engagement at once: one wins, the other is refused with 65")
  func conflictingAcceptances() throws {
    try withTemporaryDirectory { dir in
      let db = dir.appendingPathComponent("pair.sqlite")
      let pairs = 3
      var setup = ""
      for pair in 0..<pairs {
        setup += #"{"type":"outsourced","ticket":"P-\#(pair)","by":"acme","partner":"bolt"}"# + "\n"
      }
      #expect(try CLI.run(["--db", db.path, "import", "-"], stdin: Data(setup.utf8)).code == 0)

      let runs = Results<(pair: Int, side: String, result: CLI.Result)>()
      DispatchQueue.concurrentPerform(iterations: pairs * 2) { i in
        let (pair, side) = (i / 2, i % 2 == 0 ? "a" : "b")
        do {
          let result = try CLI.run(["--db", db.path, "import", "-"], stdin: Self.acceptance(pair: pair, side: side))
          runs.append((pair, side, result))
        } catch {
          Issue.record("pair \(pair) side \(side) could not start: \(error)")
        }
      }

      let log = try CLI.json(["log"], db: db)
      let events = try #require(log["events"] as? [[String: Any]])
      let tickets = events.compactMap { $0["ticket"] as? String }
      for pair in 0..<pairs {
        let results = runs.all.filter { $0.pair == pair }
        let codes = results.map(\.result.code).sorted()
        #expect(codes == [0, 65], "pair \(pair): exits \(codes): \(results.map(\.result.err))")
        guard let loser = results.first(where: { $0.result.code == 65 }) else { continue }
        #expect(loser.result.err.split(separator: "\n").count == 1, "\(loser.result.err)")
        #expect(loser.result.err.contains(":2001:"), "the refusal names line 2001: \(loser.result.err)")
        #expect(tickets.filter { $0 == "P-\(pair)" }.count == 2, "P-\(pair) must hold outsourced + one accepted")
        #expect(!tickets.contains("Q-\(pair)-\(loser.side)"), "the refused file appended events")
        #expect(tickets.filter { $0 == "Q-\(pair)-\(loser.side == "a" ? "b" : "a")" }.count == 2_000)
      }
      let verify = try CLI.run(["--db", db.path, "verify"])
      #expect(verify.code == 0, "\(verify.out) \(verify.err)")
    }
  }

  /// `count` notes by acme on `ticket`, one per line.
  static func notes(_ count: Int, ticket: String) -> String {
    (0..<count).map {
      #"{"type":"entry-added","ticket":"\#(ticket)","by":"acme","entry":"n\#($0)","kind":"note"}"#
    }.joined(separator: "\n") + "\n"
  }

  @Test("first imports racing on a missing log: a failing one never removes what another wrote")
  func racingFirstImports() throws {
    try withTemporaryDirectory { dir in
      let db = dir.appendingPathComponent("race.sqlite")
      // 0: fails at its last line, late; 1: starts a moment later and succeeds; 2 and 3: succeed,
      // started together, so one of them finds the log created by another.
      let inputs = [
        Self.notes(20_000, ticket: "BAD") + #"{"type":"bogus"}"# + "\n",
        Self.notes(10, ticket: "GOOD"),
        Self.notes(3_000, ticket: "TWIN-A"),
        Self.notes(3_000, ticket: "TWIN-B"),
      ]
      let runs = Results<(index: Int, result: CLI.Result)>()
      DispatchQueue.concurrentPerform(iterations: inputs.count) { index in
        if index == 1 { Thread.sleep(forTimeInterval: 0.3) }
        do {
          let result = try CLI.run(["--db", db.path, "import", "-"], stdin: Data(inputs[index].utf8))
          runs.append((index, result))
        } catch {
          Issue.record("import \(index) could not start: \(error)")
        }
      }
      let codes = Dictionary(uniqueKeysWithValues: runs.all.map { ($0.index, $0.result.code) })
      #expect(codes == [0: 65, 1: 0, 2: 0, 3: 0], "\(runs.all.map(\.result.err))")
      let log = try CLI.json(["log"], db: db)
      let tickets = (log["events"] as? [[String: Any]] ?? []).compactMap { $0["ticket"] as? String }
      #expect(tickets.filter { $0 == "GOOD" }.count == 10, "the successful import was lost")
      #expect(tickets.filter { $0 == "TWIN-A" }.count == 3_000 && tickets.filter { $0 == "TWIN-B" }.count == 3_000)
      #expect(!tickets.contains("BAD"))
      #expect(try CLI.run(["--db", db.path, "verify"]).code == 0)
      let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
      #expect(!names.contains { $0.contains(".new-") }, "a staging file was left: \(names)")
    }
  }

  @Test("--wait: a write gives up after the seconds it is given, or outwaits a writer that finishes")
  func waitOption() throws {
    try withTemporaryDirectory { dir in
      let (db, holder) = try LockHolder.lockedLog(in: dir)

      // One second given: exit 75 after about a second.
      let clock = ContinuousClock()
      var start = clock.now
      let short = try CLI.run(
        ["--db", db.path, "--wait", "1", "import", "-"], stdin: Data(Self.notes(2, ticket: "M").utf8))
      let waited = clock.now - start
      #expect(short.code == 75, "exit \(short.code): \(short.err)")
      #expect(waited >= .milliseconds(900) && waited < .seconds(4), "gave up after \(waited)")
      #expect(short.err.contains("--wait"), "\(short.err)")

      // Thirty seconds given: the import waits until the other writer lets go after 1.5 s.
      final class Outcome: @unchecked Sendable {
        var result: CLI.Result?
        var error: (any Error)?
      }
      let outcome = Outcome()
      let waiting = Thread {
        do {
          outcome.result = try CLI.run(
            ["--db", db.path, "--wait", "30", "import", "-"], stdin: Data(Self.notes(3, ticket: "N").utf8))
        } catch {
          outcome.error = error
        }
      }
      start = clock.now
      waiting.start()
      Thread.sleep(forTimeInterval: 1.5)
      try holder.release()
      while outcome.result == nil, outcome.error == nil, clock.now - start < .seconds(60) {
        Thread.sleep(forTimeInterval: 0.05)
      }
      #expect(outcome.error == nil)
      #expect(outcome.result?.code == 0, "exit \(outcome.result?.code ?? -1): \(outcome.result?.err ?? "")")
      let export = try CLI.run(["--db", db.path, "export"])
      #expect(export.out.split(separator: "\n").count == 4, "the waiting import did not append its 3 events")

      let invalid = try CLI.run(["--db", db.path, "--wait", "-1", "log"])
      #expect(invalid.code == 64, "\(invalid.err)")
    }
  }

  @Test("a log locked past the 5 s busy timeout: exit 75, one line that says to run it again")
  func lockedLog() throws {
    try withTemporaryDirectory { dir in
      // Another program holds SQLite's write lock until told to let go.
      let (db, holder) = try LockHolder.lockedLog(in: dir)

      let clock = ContinuousClock()
      let start = clock.now
      let result = try CLI.run(["--db", db.path, "import", "-"], stdin: Data(Self.notes(5, ticket: "M").utf8))
      let waited = clock.now - start
      try holder.release()

      #expect(result.code == 75, "exit \(result.code): \(result.err)")
      #expect(waited >= .seconds(4), "gave up after \(waited), before the busy timeout")
      #expect(result.err.split(separator: "\n").count == 1, "not one line: \(result.err)")
      #expect(result.err.contains(db.path) && result.err.contains("run the command again"), "\(result.err)")
      #expect(!result.err.localizedCaseInsensitiveContains("database is locked"), "\(result.err)")
      let export = try CLI.run(["--db", db.path, "export"])
      #expect(export.out.split(separator: "\n").count == 1, "the refused import appended events")
    }
  }
}

/// Another program (the `sqlite3` shell) holding SQLite's write lock on a log until told to let go.
struct LockHolder {
  private let process = Process()
  private let input = Pipe()

  /// Starts the shell and takes the write lock (`BEGIN IMMEDIATE`).
  init(_ db: URL) throws {
    let output = Pipe()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
    process.arguments = [db.path]
    process.standardInput = input
    process.standardOutput = output
    try process.run()
    input.fileHandleForWriting.write(Data("BEGIN IMMEDIATE;\nSELECT 'locked';\n".utf8))
    #expect(String(decoding: output.fileHandleForReading.availableData, as: UTF8.self).contains("locked"))
  }

  /// A log of one event in `dir`, whose write lock another program holds.
  static func lockedLog(in dir: URL) throws -> (db: URL, holder: LockHolder) {
    let db = dir.appendingPathComponent("locked.sqlite")
    let event = #"{"type":"entry-added","ticket":"L","by":"acme","entry":"n0","kind":"note"}"#
    #expect(try CLI.run(["--db", db.path, "import", "-"], stdin: Data(event.utf8)).code == 0)
    return (db, try LockHolder(db))
  }

  /// Lets go of the lock and waits for the shell to end.
  func release() throws {
    input.fileHandleForWriting.write(Data("ROLLBACK;\n.quit\n".utf8))
    try input.fileHandleForWriting.close()
    process.waitUntilExit()
  }
}
