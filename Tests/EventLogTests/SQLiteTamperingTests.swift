import EventLog
import Foundation
import Testing

/// `verify` catches edits made behind the log's back, after someone drops the
/// append-only triggers.
@Suite("SQLite tampering")
struct SQLiteTamperingTests {
  /// One way to tamper with the six events written by `withTamperedLog`.
  struct Tampering: CustomStringConvertible, Sendable {
    var description: String
    var sql: String
    var firstBadPosition: Int64
  }

  static let tamperings: [Tampering] = [
    Tampering(
      description: "one byte of data",
      sql: #"UPDATE events SET data = replace(data, '"n":4', '"n":5') WHERE position = 4"#,
      firstBadPosition: 4),
    Tampering(
      description: "type", sql: "UPDATE events SET type = 'notes' WHERE position = 4",
      firstBadPosition: 4),
    Tampering(
      description: "stream", sql: "UPDATE events SET stream = 'b' WHERE position = 4",
      firstBadPosition: 4),
    Tampering(
      description: "stream to a new stream",
      sql: "UPDATE events SET stream = 'z' WHERE position = 1",
      firstBadPosition: 1),
    Tampering(
      description: "time", sql: "UPDATE events SET time_us = time_us + 1 WHERE position = 3",
      firstBadPosition: 3),
    Tampering(
      description: "version", sql: "UPDATE events SET version = 9 WHERE position = 6",
      firstBadPosition: 6),
    Tampering(
      description: "hash", sql: "UPDATE events SET hash = zeroblob(32) WHERE position = 2",
      firstBadPosition: 2),
    Tampering(
      description: "delete a middle row", sql: "DELETE FROM events WHERE position = 3",
      firstBadPosition: 3),
    Tampering(
      description: "delete the first row", sql: "DELETE FROM events WHERE position = 1",
      firstBadPosition: 1),
    Tampering(
      description: "swap two rows of different streams",
      sql: """
        UPDATE events SET position = -2 WHERE position = 2;
        UPDATE events SET position = 2 WHERE position = 3;
        UPDATE events SET position = 3 WHERE position = -2;
        """,
      firstBadPosition: 2),
    Tampering(
      description: "swap the contents of two rows of one stream",
      sql: """
        CREATE TEMP TABLE saved AS SELECT * FROM events WHERE position IN (4, 6);
        UPDATE events SET stream = 'parked' WHERE position = 6;
        UPDATE events SET (stream, version, type, actor, time_us, data, hash) =
          (SELECT stream, version, type, actor, time_us, data, hash FROM saved WHERE position = 6)
          WHERE position = 4;
        UPDATE events SET (stream, version, type, actor, time_us, data, hash) =
          (SELECT stream, version, type, actor, time_us, data, hash FROM saved WHERE position = 4)
          WHERE position = 6;
        """,
      firstBadPosition: 4),
  ]

  @Test(arguments: tamperings)
  func verifyFindsTheFirstBadPosition(_ tampering: Tampering) throws {
    try withTemporaryLog { log throws in
      // Streams by position: a a b a b a.
      _ = try log.append(
        ["a", "a", "b", "a", "b", "a"].enumerated().map { record($1, $0 + 1) },
        expectedVersions: [:])
      #expect(try log.verify().isHealthy)
      let raw = try RawDatabase(path: log.path)
      try raw.execute("DROP TRIGGER events_refuse_update; DROP TRIGGER events_refuse_delete;")
      try raw.execute(tampering.sql)
      let report = try log.verify()
      #expect(report.firstBadPosition == tampering.firstBadPosition, "\(report)")
      #expect(!report.isHealthy)
      let problem = try #require(report.problem)
      #expect(problem.contains(String(tampering.firstBadPosition)))
    }
  }

  @Test func verifyDescribesHashAndGapProblems() throws {
    try withTemporaryLog { log throws in
      _ = try log.append((1...6).map { record("a", $0) }, expectedVersions: [:])
      let raw = try RawDatabase(path: log.path)
      try raw.execute("DROP TRIGGER events_refuse_update; DROP TRIGGER events_refuse_delete;")
      try raw.execute("UPDATE events SET actor = 'mallory' WHERE position = 5")
      #expect(
        try log.verify()
          == VerifyReport(
            events: 6, firstBadPosition: 5,
            problem: "position 5: hash does not match its contents or its predecessor"))
      try raw.execute("DELETE FROM events WHERE position = 2")
      #expect(
        try log.verify()
          == VerifyReport(
            events: 5, firstBadPosition: 2, problem: "position gap: expected 2, found 3"))
    }
  }
}
