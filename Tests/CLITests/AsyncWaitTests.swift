import Foundation
import Testing

/// Asynchronous writes that wait for another process's lock leave Swift concurrency's
/// cooperative pool free.
///
/// The measurement runs in `PartnerSyncWaitProbe`, a process of its own: in this one, the other
/// tests keep the pool's threads busy and would make any timer late.
@Suite struct AsyncWaitTests {
  /// The probe built beside this test bundle.
  static let probe = CLI.binary.deletingLastPathComponent().appendingPathComponent("PartnerSyncWaitProbe")

  /// Another process holds SQLite's write lock for 2 s while 4 asynchronous records (more than
  /// the pool's threads on a small machine) wait for it; a task that sleeps 50 ms again and
  /// again meanwhile wakes at most 250 ms late (with the records blocking the pool's threads
  /// instead, it wakes about 2 s late), and every record then succeeds.
  @Test func waitingRecordsDoNotHoldUpTheCooperativePool() throws {
    try withTemporaryDirectory { dir in
      let process = Process()
      process.executableURL = Self.probe
      process.arguments = [dir.appendingPathComponent("log.sqlite").path, "4", "2"]
      let pipe = Pipe()
      process.standardOutput = pipe
      try process.run()
      let output = pipe.fileHandleForReading.readDataToEndOfFile()
      process.waitUntilExit()
      #expect(process.terminationStatus == 0)
      let report = try #require(try JSONSerialization.jsonObject(with: output) as? [String: Any])
      let worst = try #require(report["worstLatenessMs"] as? Double)
      let first = try #require(report["firstFinishedMs"] as? Double)
      let ticks = try #require(report["ticks"] as? Int)
      #expect(report["succeeded"] as? Int == 4, "\(report)")
      // The records did wait for the lock, and the timer ticked all along.
      #expect(first >= 1500, "\(report)")
      #expect(ticks >= 20, "\(report)")
      #expect(worst < 250, "\(report)")
    }
  }
}
