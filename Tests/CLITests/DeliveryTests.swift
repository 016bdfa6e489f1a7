import Foundation
import PartnerSync
import Testing

/// `partnersync deliver`: at-least-once delivery of the stored outbox to a command, killed with
/// SIGKILL at varied moments and run again until it is done.
@Suite(.serialized) struct DeliveryTests {
  static let seed: UInt64 = 0xDE11_7E12

  /// A log whose outbox holds a few hundred notifications, and their ids in order.
  static func log(in dir: URL) throws -> (db: URL, ids: [String]) {
    let db = dir.appendingPathComponent("log.sqlite")
    let file = dir.appendingPathComponent("history.jsonl")
    var text = ""
    for round in 0..<6 {
      for n in 0..<40 {
        let head = #"{"ticket":"D-\#(n)","at":"2026-03-02T09:00:00Z","#
        let by = round % 2 == 1 ? "acme" : "bolt"
        switch round {
        case 0: text += head + #""type":"outsourced","by":"acme","partner":"bolt","resource":"dana"}"#
        case 1: text += head + #""type":"accepted","by":"bolt"}"#
        default: text += head + #""type":"entry-added","by":"\#(by)","entry":"e\#(round)","kind":"note","text":"n"}"#
        }
        text += "\n"
      }
    }
    try Data(text.utf8).write(to: file)
    let imported = try CLI.run(["--db", db.path, "--quiet", "import", file.path])
    #expect(imported.code == 0, "\(imported.err)")
    let log = try PartnerSyncLog.open(path: db.path, readOnly: true)
    return (db, try log.outbox(limit: 10_000).map(\.id))
  }

  /// The ids the receiver wrote to `inbox`, in order.
  static func received(_ inbox: URL) throws -> [String] {
    guard let data = FileManager.default.contents(atPath: inbox.path) else { return [] }
    return try String(decoding: data, as: UTF8.self).split(separator: "\n").map { line in
      let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
      return try #require(object?["id"] as? String, "a line without an id: \(line)")
    }
  }

  @Test("SIGKILL at any moment loses no notification; only the one in flight may come twice, with its id")
  func killedDeliveries() throws {
    try withTemporaryDirectory { dir in
      let (db, ids) = try Self.log(in: dir)
      #expect(ids.count > 200)
      let inbox = dir.appendingPathComponent("inbox.jsonl")
      var rng = SplitMix64(seed: Self.seed)
      var kills = 0
      var finished = false
      while !finished {
        #expect(kills < 200, "delivery never finished")
        guard kills < 200 else { break }
        let process = Process()
        process.executableURL = CLI.binary
        process.arguments = ["--db", db.path, "--quiet", "deliver", "--to", "cat >> '\(inbox.path)'"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        Thread.sleep(forTimeInterval: Double.random(in: 0..<0.25, using: &rng))
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        if process.terminationReason == .uncaughtSignal {
          #expect(process.terminationStatus == SIGKILL)
          kills += 1
          // The receiver of the notification in flight finishes on its own; let it.
          Thread.sleep(forTimeInterval: 0.02)
        } else {
          #expect(process.terminationStatus == 0)
          finished = true
        }
      }
      #expect(kills >= 3, "too few kills landed to test anything")
      let got = try Self.received(inbox)
      // Nothing lost, in order; a repeat only right after its first copy, at most one per kill.
      var distinct: [String] = []
      var repeats = 0
      for id in got {
        if id == distinct.last {
          repeats += 1
        } else {
          distinct.append(id)
        }
      }
      #expect(distinct == ids)
      #expect(repeats <= kills, "\(repeats) repeats for \(kills) kills")
      let again = try CLI.run(["--db", db.path, "deliver", "--to", "cat >> '\(inbox.path)'"])
      #expect(again.code == 0)
      #expect(again.err.contains("Delivered 0 notifications"))
    }
  }

  @Test("a receiver that fails stops the delivery there (exit 75); the next run starts with that notification")
  func failingReceiver() throws {
    try withTemporaryDirectory { dir in
      let (db, ids) = try Self.log(in: dir)
      let inbox = dir.appendingPathComponent("inbox.jsonl")
      let failOn = ids[10]
      let picky = "[ \"$PARTNERSYNC_NOTIFICATION_ID\" != \(failOn) ] && cat >> '\(inbox.path)'"
      let failed = try CLI.run(["--db", db.path, "deliver", "--to", picky])
      #expect(failed.code == 75)
      #expect(failed.err.contains("notification \(failOn) was not delivered (the command exited with 1)"))
      #expect(failed.err.split(separator: "\n").count == 1)
      #expect(try Self.received(inbox) == Array(ids[..<10]))
      let checkpoint = try String(contentsOf: URL(fileURLWithPath: db.path + ".delivered"), encoding: .utf8)
      #expect(checkpoint == ids[9] + "\n")
      let rest = try CLI.run(["--db", db.path, "deliver", "--to", "cat >> '\(inbox.path)'"])
      #expect(rest.code == 0)
      #expect(try Self.received(inbox) == ids)
    }
  }

  @Test("--as delivers one partner's notifications, with a checkpoint of its own")
  func onePartner() throws {
    try withTemporaryDirectory { dir in
      let (db, _) = try Self.log(in: dir)
      let inbox = dir.appendingPathComponent("bolt.jsonl")
      let result = try CLI.run(["--db", db.path, "deliver", "--as", "bolt", "--to", "cat >> '\(inbox.path)'"])
      #expect(result.code == 0)
      let log = try PartnerSyncLog.open(path: db.path, readOnly: true)
      let bolt = try log.outbox(limit: 10_000, as: "bolt")
      #expect(!bolt.isEmpty)
      #expect(try Self.received(inbox) == bolt.map(\.id))
      #expect(FileManager.default.fileExists(atPath: db.path + ".delivered-bolt"))
      #expect(!FileManager.default.fileExists(atPath: db.path + ".delivered"))
    }
  }

  @Test("a checkpoint file that does not hold a cursor: one line, exit 66, nothing delivered")
  func badCheckpoint() throws {
    try withTemporaryDirectory { dir in
      let (db, _) = try Self.log(in: dir)
      let checkpoint = dir.appendingPathComponent("cp")
      try Data("twelve\n".utf8).write(to: checkpoint)
      let inbox = dir.appendingPathComponent("inbox.jsonl")
      let result = try CLI.run([
        "--db", db.path, "deliver", "--checkpoint", checkpoint.path, "--to", "cat >> '\(inbox.path)'",
      ])
      #expect(result.code == 66)
      #expect(result.err.contains("does not hold a cursor"))
      #expect(!FileManager.default.fileExists(atPath: inbox.path))
    }
  }
}
