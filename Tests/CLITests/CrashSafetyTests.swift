import Foundation
import PartnerSync
import Testing

/// `import` killed with SIGKILL at varied moments: the log always opens and verifies, the killed
/// file's events are all there or none of them, and every import that succeeded earlier is intact.
///
/// Each attempt imports its own tickets (`S<session>K<attempt>-T<n>`), so a later file never
/// depends on a killed one. Kill delays are spread from 0 to 1.1 times a measured import, seeded.
@Suite(.serialized) struct CrashSafetyTests {
  static let tickets = 250
  static let rounds = 8  // events per ticket: 2,000 per file
  static let kills = 20
  static let sessions = 5
  static var perFile: Int { tickets * rounds }
  static let seed: UInt64 = 0xC2A5_4001

  /// A valid JSON Lines file of `tickets × rounds` events for tickets `<prefix>-T<n>`, interleaved
  /// round by round: acme outsources to bolt, bolt accepts, then both add notes and time entries
  /// and edit their own.
  static func history(prefix: String) -> Data {
    var text = ""
    text.reserveCapacity(tickets * rounds * 130)
    for round in 0..<rounds {
      for n in 0..<tickets {
        let ticket = "\(prefix)-T\(n)"
        let by = round % 2 == 1 ? "acme" : "bolt"
        let head = #"{"ticket":"\#(ticket)","at":"2026-03-02T09:00:00Z","#
        switch round {
        case 0: text += head + #""type":"outsourced","by":"acme","partner":"bolt","resource":"dana"}"#
        case 1: text += head + #""type":"accepted","by":"bolt"}"#
        case _ where round % 5 == 4:
          text += head + #""type":"entry-edited","by":"\#(by)","entry":"e\#(round - 2)","text":"edit \#(round)"}"#
        case _ where round % 3 == 0:
          text += head + #""type":"entry-added","by":"\#(by)","entry":"e\#(round)","kind":"time","hours":0.5}"#
        default:
          text += head + #""type":"entry-added","by":"\#(by)","entry":"e\#(round)","kind":"note","text":"n\#(round)"}"#
        }
        text += "\n"
      }
    }
    return Data(text.utf8)
  }

  /// How one started import ended.
  enum Outcome: Equatable {
    case killed
    case exited(Int32)
  }

  /// Starts `partnersync --db db import file`, kills it after `delay` (unless it has ended), and
  /// reports how it ended and how long it ran.
  static func importKilled(
    after delay: Duration?, file: URL, db: URL
  ) throws -> (outcome: Outcome, elapsed: Duration) {
    let process = Process()
    process.executableURL = CLI.binary
    process.arguments = ["--db", db.path, "--quiet", "import", file.path]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    process.standardInput = FileHandle.nullDevice
    let clock = ContinuousClock()
    let start = clock.now
    try process.run()
    if let delay {
      let (seconds, attoseconds) = delay.components
      Thread.sleep(forTimeInterval: Double(seconds) + Double(attoseconds) / 1e18)
      if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
    process.waitUntilExit()
    let elapsed = clock.now - start
    if process.terminationReason == .uncaughtSignal {
      #expect(process.terminationStatus == SIGKILL, "import died of signal \(process.terminationStatus)")
      return (.killed, elapsed)
    }
    return (.exited(process.terminationStatus), elapsed)
  }

  /// The number of events in the log, after checking that it opens and verifies.
  static func verifiedCount(_ db: URL, context: String) throws -> Int {
    let result = try CLI.run(["--db", db.path, "verify", "--format", "json"])
    #expect(result.code == 0, "\(context): verify exited \(result.code): \(result.err)")
    let object = try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any]
    #expect(object?["ok"] as? Bool == true, "\(context): verify said \(result.out)")
    return try #require(object?["events"] as? Int, "\(context): verify said \(result.out)")
  }

  /// The export of one ticket (none when it is not in the log), or of the log, as lines.
  static func exportLines(_ db: URL, ticket: String? = nil) throws -> [Substring] {
    let result = try CLI.run(["--db", db.path, "export"] + (ticket.map { ["--ticket", $0] } ?? []))
    if let ticket, result.code == 66, result.err.contains("ticket \(ticket) is not in the log") {
      #expect(result.out.isEmpty)
      return []
    }
    #expect(result.code == 0, "export exited \(result.code): \(result.err)")
    return result.out.split(separator: "\n")
  }

  @Test("SIGKILL during import leaves a log that verifies, with the file all in or all out")
  func killedImports() throws {
    try withTemporaryDirectory { dir in
      let base = dir.appendingPathComponent("base.sqlite")
      let first = dir.appendingPathComponent("K0.jsonl")
      try Self.history(prefix: "K0").write(to: first)
      #expect(try Self.importKilled(after: nil, file: first, db: base).outcome == .exited(0))
      let baseExport = try Self.exportLines(base)
      #expect(baseExport.count == Self.perFile)
      let baseFirstTicket = try Self.exportLines(base, ticket: "K0-T0")

      // Stratified delays: kill i lands in the i-th slice of [0, 1.1 × typical), where typical
      // is a moving average of the imports that ended by themselves.
      var rng = SplitMix64(seed: Self.seed)
      var plan: [Double] = (0..<Self.kills).map { i in
        (Double(i) + Double.random(in: 0..<1, using: &rng)) / Double(Self.kills) * 1.1
      }
      plan.shuffle(using: &rng)
      var state = Session.State()
      // Sessions keep the log, and so the cost of each verify, small: each starts from a copy
      // of the base log and begins with an import that is allowed to finish.
      for session in 0..<Self.sessions {
        let db = dir.appendingPathComponent("session\(session).sqlite")
        for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: base.path + suffix) {
          try FileManager.default.copyItem(atPath: base.path + suffix, toPath: db.path + suffix)
        }
        let slice = plan[(session * Self.kills / Self.sessions)..<((session + 1) * Self.kills / Self.sessions)]
        try Session(db: db, dir: dir, name: "S\(session)").run([nil] + slice.map { $0 }, state: &state)
        // Every import committed in this session is still there, byte for byte, after the
        // later kills (its first ticket stands for it; verify has checked the chain).
        for (prefix, lines) in state.committed {
          #expect(try Self.exportLines(db, ticket: "\(prefix)-T0") == lines, "\(prefix) changed later")
        }
        #expect(try Self.exportLines(db, ticket: "K0-T0") == baseFirstTicket, "session \(session): K0 changed")
        guard session == Self.sessions - 1 else {
          state.committed = []
          continue
        }
        // One full export: the base is its unchanged prefix, and positions run 1…N.
        let all = try Self.exportLines(db)
        #expect(all.prefix(baseExport.count) == baseExport[...], "session \(session): the base changed")
        let positions = all.compactMap { line in
          line.firstRange(of: #""position":"#).map { Int(line[$0.upperBound...].prefix { $0.isNumber })! }
        }
        #expect(positions == Array(1...max(all.count, 1)), "session \(session): positions are not 1…\(all.count)")
        state.committed = []
      }
      #expect((state.tally["killed before commit"] ?? 0) >= 5, "too few kills hit the import: \(state.tally)")
      print("CrashSafetyTests: import of \(Self.perFile) events takes \(state.typical); \(state.tally)")
    }
  }

  /// Imports into one log, killing each import after its planned fraction of a typical import.
  struct Session {
    struct State {
      var typical = Duration.zero
      var tally: [String: Int] = [:]
      /// The first ticket's export of each import committed in the current session.
      var committed: [(prefix: String, lines: [Substring])] = []
    }

    var db: URL
    var dir: URL
    var name: String

    func run(_ plan: [Double?], state: inout State) throws {
      var total = try verifiedCount(db, context: "\(name) start")
      for (attempt, fraction) in plan.enumerated() {
        let prefix = "\(name)K\(attempt)"
        let file = dir.appendingPathComponent("\(prefix).jsonl")
        try history(prefix: prefix).write(to: file)
        let delay = fraction.map { state.typical * $0 }
        let walBefore = walSize()
        let (outcome, elapsed) = try importKilled(after: delay, file: file, db: db)
        let walGrew = walSize() > walBefore
        try FileManager.default.removeItem(at: file)
        if outcome != .killed {
          state.typical = state.typical == .zero ? elapsed : (state.typical + elapsed) / 2
        }
        let context = "\(prefix) (kill after \(delay.map { "\($0)" } ?? "never"), \(outcome))"

        let count = try verifiedCount(db, context: context)
        let present = count == total + perFile
        #expect(count == total || present, "\(context): \(count - total) of \(perFile) events present")
        switch outcome {
        case .exited(let code):
          #expect(code == 0, "\(context): import failed")
          #expect(present, "\(context): a successful import is missing")
          state.tally[fraction == nil ? "allowed to finish" : "ended before the kill", default: 0] += 1
        case .killed where present:
          state.tally["killed after commit", default: 0] += 1
        case .killed:
          state.tally["killed before commit", default: 0] += 1
          // Frames written without a commit record: the kill hit the transaction itself.
          if walGrew { state.tally["of which while writing the WAL", default: 0] += 1 }
        }
        // Both ends of the file agree: the first and the last ticket are in, or both are out.
        for ticket in ["\(prefix)-T0", "\(prefix)-T\(tickets - 1)"] {
          let lines = try exportLines(db, ticket: ticket)
          #expect(lines.count == (present ? rounds : 0), "\(context): \(ticket) has \(lines.count) events")
          if present, ticket.hasSuffix("-T0") { state.committed.append((prefix, lines)) }
        }
        if present { total += perFile }
      }
    }

    private func walSize() -> Int {
      let attributes = try? FileManager.default.attributesOfItem(atPath: db.path + "-wal")
      return (attributes?[.size] as? Int) ?? 0
    }
  }
}
