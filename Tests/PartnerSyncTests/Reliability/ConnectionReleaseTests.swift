import Foundation
import Testing

@testable import PartnerSync
@testable import PartnerSyncDomain

/// A log's connection is closed when the last reference goes, also after a large import that
/// used the writer thread: SQLite then checkpoints and removes the write-ahead log.
@Suite struct ConnectionReleaseTests {
  @Test func largeImportReleasesTheConnection() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("release-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("log.sqlite").path
    var lines = [
      #"{"type":"outsourced","ticket":"T-1","by":"acme","partner":"bolt"}"#,
      #"{"type":"accepted","ticket":"T-1","by":"bolt"}"#,
    ]
    for i in 0..<3000 {
      lines.append(#"{"type":"entry-added","ticket":"T-1","by":"bolt","entry":"n\#(i)","kind":"note","text":"x"}"#)
    }
    // The result outlives the log, as `partnersync import` keeps it to report, and must not keep
    // the log (and its connection) open: the command links a new log into place only once it is
    // closed.
    var results: [RecordResult] = []
    for keeping in [true, false] {
      do {
        let log = try PartnerSyncLog.open(path: path, create: true)
        let first = try log.lastPosition() + 1
        let document = lines.map { $0.replacingOccurrences(of: "T-1", with: "T-\(keeping)") }
        let result = try log.importJSONLines(
          Array(document.joined(separator: "\n").utf8), now: Timestamp(microseconds: 0), keepingDecisions: keeping)
        #expect(result.count == 3002 && result.firstPosition == first)
        #expect(result.decisionCount == 3000)
        #expect(FileManager.default.fileExists(atPath: path + "-wal"))
        results.append(result)
      }
      #expect(!FileManager.default.fileExists(atPath: path + "-wal"), "the connection was not closed")
    }
    // Read only now, once the log is gone.
    #expect(results.map(\.decisions.count) == [3000, 0])
    #expect(results.map(\.notifications.count) == [results[0].notificationCount, 0])
    let reopened = try PartnerSyncLog.open(path: path)
    #expect(try reopened.lastPosition() == 6004)
  }
}
