import Foundation
import Testing

@testable import PartnerSync

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
    do {
      let log = try PartnerSyncLog.open(path: path, create: true)
      let result = try log.importJSONLines(Array(lines.joined(separator: "\n").utf8), now: Timestamp(microseconds: 0))
      #expect(result.count == 3002)
      #expect(FileManager.default.fileExists(atPath: path + "-wal"))
    }
    #expect(!FileManager.default.fileExists(atPath: path + "-wal"), "the connection was not closed")
    let reopened = try PartnerSyncLog.open(path: path)
    #expect(try reopened.lastPosition() == 3002)
  }
}
