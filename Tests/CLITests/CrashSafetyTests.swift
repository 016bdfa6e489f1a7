import Foundation
import Testing

/// `import` killed with SIGKILL at varied moments: the log always opens and verifies, the killed
/// file's events are all there or none of them, and every import that succeeded earlier is intact.
///
/// Each attempt imports its own tickets (`K<attempt>-T<n>`), so a later file never depends on a
/// killed one. Kill delays are spread from 0 to 1.25 times a measured import, seeded.
@Suite(.serialized) struct CrashSafetyTests {
  static let tickets = 300
  static let rounds = 20  // events per ticket: 6,000 per file
  static let kills = 22
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

  /// The export of one ticket, as lines.
  static func exportLines(_ db: URL, ticket: String? = nil) throws -> [Substring] {
    let result = try CLI.run(["--db", db.path, "export"] + (ticket.map { ["--ticket", $0] } ?? []))
    #expect(result.code == 0, "export exited \(result.code): \(result.err)")
    return result.out.split(separator: "\n")
  }

  @Test("SIGKILL during import leaves a log that verifies, with the file all in or all out")
  func killedImports() throws {
    try withTemporaryDirectory { dir in
      let db = dir.appendingPathComponent("crash.sqlite")
      let perFile = Self.tickets * Self.rounds
      var rng = SeededGenerator(seed: Self.seed)

      // The first import creates the log and measures a typical import.
      let first = dir.appendingPathComponent("K0.jsonl")
      try Self.history(prefix: "K0").write(to: first)
      let (firstOutcome, typical) = try Self.importKilled(after: nil, file: first, db: db)
      #expect(firstOutcome == .exited(0))
      var committed = [(prefix: "K0", lines: try Self.exportLines(db, ticket: "K0-T0"))]
      var total = perFile
      #expect(try Self.verifiedCount(db, context: "after the first import") == total)

      // Stratified delays: kill i lands in the i-th slice of [0, 1.25 × typical).
      var plan: [Double?] = (0..<Self.kills).map { i in
        (Double(i) + Double.random(in: 0..<1, using: &rng)) / Double(Self.kills) * 1.25
      }
      plan += [nil, nil]  // imports allowed to finish
      plan.shuffle(using: &rng)

      var tally: [String: Int] = [:]
      for (attempt, fraction) in plan.enumerated() {
        let prefix = "K\(attempt + 1)"
        let file = dir.appendingPathComponent("\(prefix).jsonl")
        try Self.history(prefix: prefix).write(to: file)
        let delay = fraction.map { typical * $0 }
        let (outcome, _) = try Self.importKilled(after: delay, file: file, db: db)
        try FileManager.default.removeItem(at: file)
        let context = "attempt \(attempt + 1) (kill after \(delay.map { "\($0)" } ?? "never"), \(outcome))"

        let count = try Self.verifiedCount(db, context: context)
        let present = count == total + perFile
        #expect(count == total || present, "\(context): \(count - total) of \(perFile) events present")
        switch outcome {
        case .exited(let code):
          #expect(code == 0, "\(context): import failed")
          #expect(present, "\(context): a successful import is missing")
          tally["finished", default: 0] += 1
        case .killed:
          tally[present ? "killed after commit" : "killed before commit", default: 0] += 1
        }
        // Both ends of the file agree: the first and the last ticket are in, or both are out.
        for ticket in ["\(prefix)-T0", "\(prefix)-T\(Self.tickets - 1)"] {
          let lines = try Self.exportLines(db, ticket: ticket)
          #expect(lines.count == (present ? Self.rounds : 0), "\(context): \(ticket) has \(lines.count) events")
        }
        if present {
          total += perFile
          committed.append((prefix, try Self.exportLines(db, ticket: "\(prefix)-T0")))
        }
      }

      // Everything that was committed is still there, byte for byte, in the one full export.
      let all = try Self.exportLines(db)
      #expect(all.count == total)
      for (prefix, lines) in committed {
        let now = all.filter { $0.contains(#""ticket":"\#(prefix)-T0""#) }
        #expect(now == lines, "\(prefix)-T0 changed after later imports and kills")
      }
      let positions = all.compactMap { line in
        line.firstRange(of: #""position":"#).map { Int(line[$0.upperBound...].prefix { $0.isNumber })! }
      }
      #expect(positions == Array(1...max(total, 1)), "positions are not 1…\(total)")
      #expect((tally["killed before commit"] ?? 0) >= 5, "too few kills hit the import: \(tally)")
      print("CrashSafetyTests: import of \(perFile) events takes \(typical); outcomes \(tally)")
    }
  }
}

/// SplitMix64: a small seeded generator, the same on every platform.
struct SeededGenerator: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
