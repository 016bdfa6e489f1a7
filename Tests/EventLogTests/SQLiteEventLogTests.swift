import CSQLite
import EventLog
import Foundation
import Testing

/// Behaviour specific to the SQLite file: opening, schema, permissions,
/// several connections, and the file's readability by other tools.
@Suite("SQLite event log")
struct SQLiteEventLogTests {
  /// A streaming append of more than one chunk writes on a thread of its own; once it returns,
  /// that thread holds nothing of the log, so dropping the log closes its connection at once
  /// (SQLite then checkpoints and removes the write-ahead log).
  @Test func aLargeStreamingAppendLeavesNothingThatKeepsTheLogOpen() throws {
    try withTemporaryDirectory { directory in
      let path = directory.appendingPathComponent("events.sqlite").path
      for round in 0..<25 {
        do {
          let log = try SQLiteEventLog(path: path, options: .init(create: true, synchronous: .off))
          _ = try log.append(expectedVersions: [:]) { appender in
            for index in 0..<2_500 { try appender.append(record("s\(round)-\(index % 7)")) }
          }
          #expect(FileManager.default.fileExists(atPath: path + "-wal"))
        }
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"), "round \(round): the connection was not closed")
      }
    }
  }

  @Test func newFileGetsTheSchema() throws {
    try withTemporaryLog { log throws in
      _ = try log.append([record("a")], expectedVersions: [:])
      let raw = try RawDatabase(path: log.path)
      #expect(try raw.integer("PRAGMA application_id") == 1_347_636_803)
      #expect(try raw.integer("PRAGMA user_version") == 2)
      #expect(try raw.text("PRAGMA journal_mode") == "wal")
      #expect(
        try raw.integer(
          """
          SELECT count(*) FROM sqlite_master WHERE name IN
            ('events', 'events_refuse_update', 'events_refuse_delete', 'events_readable',
             'outbox', 'outbox_by_recipient', 'outbox_filling')
          """) == 7)
      #expect(try raw.text("SELECT time FROM events_readable") == "2023-11-14T22:13:20.000Z")
      #expect(try raw.text("SELECT length(hash) FROM events_readable") == "64")
    }
  }

  @Test func triggersRefuseUpdateAndDeleteThroughTheCAPI() throws {
    try withTemporaryLog { log throws in
      _ = try log.append([record("a"), record("b")], expectedVersions: [:])
      let raw = try RawDatabase(path: log.path)
      for sql in [
        "UPDATE events SET data = '{}' WHERE position = 1", "DELETE FROM events WHERE position = 2",
      ] {
        let error = try #require(throws: RawSQLiteError.self) { try raw.execute(sql) }
        #expect(error.code == SQLITE_CONSTRAINT)
        #expect(error.message.contains("events are append-only"))
      }
      #expect(try log.lastPosition() == 2)
      #expect(try log.verify().isHealthy)
    }
  }

  @Test(.enabled(if: sqliteShellPath != nil, "needs the sqlite3 shell"))
  func triggersRefuseUpdateAndDeleteThroughTheShell() throws {
    try withTemporaryLog { log throws in
      _ = try log.append([record("a")], expectedVersions: [:])
      let update = try runSQLiteShell(log.path, "UPDATE events SET type = 'x';")
      #expect(update.status != 0)
      #expect(update.error.contains("events are append-only: UPDATE refused"))
      let delete = try runSQLiteShell(log.path, "DELETE FROM events;")
      #expect(delete.status != 0)
      #expect(delete.error.contains("events are append-only: DELETE refused"))
      #expect(try log.events().map(\.type) == ["noted"])
    }
  }

  @Test(.enabled(if: sqliteShellPath != nil, "needs the sqlite3 shell"))
  func dataIsJSONForTheShell() throws {
    try withTemporaryLog { log throws in
      let event = EventRecord(
        stream: "t-1", type: "opened", actor: "ann", time: 0,
        data: #"{"title":"Zürich","tags":["a","b"]}"#)
      _ = try log.append([event], expectedVersions: [:])
      let result = try runSQLiteShell(
        log.path,
        "SELECT json_extract(data, '$.title'), json_extract(data, '$.tags[1]') FROM events;")
      #expect(result.status == 0)
      #expect(result.output == "Zürich|b")
      let readable = try runSQLiteShell(log.path, "SELECT time, stream FROM events_readable;")
      #expect(readable.output == "1970-01-01T00:00:00.000Z|t-1")
    }
  }

  @Test func reopeningKeepsTheEvents() throws {
    try withTemporaryDirectory { directory throws in
      let path = directory.appendingPathComponent("log.sqlite").path
      do {
        let log = try SQLiteEventLog(path: path, options: .init(create: true))
        _ = try log.append([record("a"), record("b"), record("a")], expectedVersions: [:])
      }
      let log = try SQLiteEventLog(path: path)
      #expect(try log.lastPosition() == 3)
      #expect(try log.version(of: "a") == 2)
      #expect(try log.append([record("a")], expectedVersions: ["a": 2]).firstPosition == 4)
      #expect(try log.verify() == VerifyReport(events: 4))
    }
  }

  @Test func secondConnectionWithAStaleVersionConflicts() throws {
    try withTemporaryLog { first throws in
      let second = try SQLiteEventLog(path: first.path)
      _ = try first.append([record("a")], expectedVersions: [:])
      #expect(try second.version(of: "a") == 1)
      _ = try first.append([record("a")], expectedVersions: ["a": 1])
      #expect(throws: EventLogError.versionConflict(stream: "a", expected: 1, actual: 2)) {
        try second.append([record("a"), record("b")], expectedVersions: ["a": 1])
      }
      #expect(try second.lastPosition() == 2)
      #expect(try second.append([record("a")], expectedVersions: ["a": 2]).firstPosition == 3)
      #expect(try first.events().map(\.version) == [1, 2, 3])
    }
  }

  /// A log goes on from the last event it appended itself without reading it back, unless another
  /// connection wrote since: then it reads the last event, whatever it read meanwhile.
  @Test func connectionsAppendingInTurnContinueEachOthersChain() throws {
    try withTemporaryLog { first throws in
      let second = try SQLiteEventLog(path: first.path)
      #expect(try first.append([record("a")], expectedVersions: [:]).firstPosition == 1)
      #expect(try first.append([record("a")], expectedVersions: ["a": 1]).firstPosition == 2)
      #expect(try second.append([record("b")], expectedVersions: [:]).firstPosition == 3)
      #expect(try first.append([record("a")], expectedVersions: ["a": 2]).firstPosition == 4)
      #expect(try second.append([record("b")], expectedVersions: ["b": 1]).firstPosition == 5)
      #expect(try first.lastPosition() == 5)  // a read in between
      #expect(try first.append([record("c")], expectedVersions: [:]).firstPosition == 6)
      #expect(try second.append([record("c")], expectedVersions: ["c": 1]).firstPosition == 7)
      #expect(try first.verify() == VerifyReport(events: 7))
      #expect(try second.events().map(\.stream) == ["a", "a", "b", "a", "b", "c", "c"])
    }
  }

  @Test func lockedDatabaseThrowsBusyAndWritesNothing() throws {
    try withTemporaryLog { log throws in
      let impatient = try SQLiteEventLog(
        path: log.path, options: .init(busyTimeoutMilliseconds: 50))
      let raw = try RawDatabase(path: log.path)
      try raw.execute("BEGIN IMMEDIATE")
      #expect(throws: EventLogError.busy(path: log.path)) {
        try impatient.append([record("a")], expectedVersions: [:])
      }
      try raw.execute("ROLLBACK")
      #expect(try impatient.lastPosition() == 0)
      #expect(try impatient.append([record("a")], expectedVersions: [:]).lastPosition == 1)
    }
  }

  @Test func missingFileWithoutCreateIsNotCreated() throws {
    try withTemporaryDirectory { directory throws in
      let path = directory.appendingPathComponent("missing.sqlite").path
      #expect(throws: EventLogError.fileNotFound(path: path)) { try SQLiteEventLog(path: path) }
      #expect(throws: EventLogError.fileNotFound(path: path)) {
        try SQLiteEventLog(path: path, options: .init(create: true, readOnly: true))
      }
      #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }
  }

  @Test func emptyExistingFileGetsTheSchema() throws {
    try withTemporaryDirectory { directory throws in
      let path = directory.appendingPathComponent("empty.sqlite").path
      #expect(FileManager.default.createFile(atPath: path, contents: Data()))
      let log = try SQLiteEventLog(path: path)
      #expect(try log.append([record("a")], expectedVersions: [:]).lastPosition == 1)
    }
  }

  @Test func nonSQLiteFileIsNotAnEventLog() throws {
    try withTemporaryDirectory { directory throws in
      let path = directory.appendingPathComponent("notes.txt").path
      let contents = Data(
        String(repeating: "These are not the bytes of a SQLite database.\n", count: 40).utf8)
      #expect(FileManager.default.createFile(atPath: path, contents: contents))
      #expect(throws: EventLogError.notAnEventLog(path: path)) { try SQLiteEventLog(path: path) }
      #expect(throws: EventLogError.notAnEventLog(path: path)) {
        try SQLiteEventLog(path: path, options: .init(create: true))
      }
      #expect(FileManager.default.contents(atPath: path) == contents)
    }
  }

  @Test(arguments: [
    "PRAGMA application_id = 42; CREATE TABLE notes (body TEXT);",
    "PRAGMA application_id = 42;",
    "CREATE TABLE notes (body TEXT);",
  ])
  func otherApplicationsDatabaseIsNotAnEventLog(_ setup: String) throws {
    try withTemporaryDirectory { directory throws in
      let path = directory.appendingPathComponent("other.sqlite").path
      try RawDatabase(path: path).execute(setup)
      #expect(throws: EventLogError.notAnEventLog(path: path)) { try SQLiteEventLog(path: path) }
      #expect(
        try RawDatabase(path: path).integer(
          "SELECT count(*) FROM sqlite_master WHERE name = 'events'") == 0)
    }
  }

  @Test func olderSchemaIsReadAsItIsAndUpgradedByAWriter() throws {
    try withTemporaryLog { log throws in
      _ = try log.append([record("a"), record("b")], expectedVersions: [:])
      try RawDatabase(path: log.path).execute(
        "DROP TABLE outbox; DROP TABLE outbox_filling; PRAGMA user_version = 1")
      let reader = try SQLiteEventLog(path: log.path, options: .init(readOnly: true))
      #expect(try reader.lastPosition() == 2)
      #expect(try !reader.outboxIsFilled())
      #expect(try RawDatabase(path: log.path).integer("PRAGMA user_version") == 1)
      let writer = try SQLiteEventLog(path: log.path)
      #expect(try RawDatabase(path: log.path).integer("PRAGMA user_version") == 2)
      // The events came before the outbox: it waits to be filled by whoever knows their messages.
      #expect(try !writer.outboxIsFilled())
      #expect(try RawDatabase(path: log.path).integer("SELECT through FROM outbox_filling") == 2)
    }
  }

  @Test func newerSchemaIsRefused() throws {
    try withTemporaryLog { log throws in
      try RawDatabase(path: log.path).execute("PRAGMA user_version = 3")
      #expect(throws: EventLogError.newerSchema(path: log.path, found: 3, supported: 2)) {
        try SQLiteEventLog(path: log.path)
      }
    }
  }

  @Test func readOnlyOpenRefusesAppends() throws {
    try withTemporaryLog { log throws in
      _ = try log.append([record("a")], expectedVersions: [:])
      let reader = try SQLiteEventLog(path: log.path, options: .init(readOnly: true))
      #expect(reader.isReadOnly)
      #expect(throws: EventLogError.readOnly(path: log.path)) {
        try reader.append([record("a")], expectedVersions: [:])
      }
      #expect(try reader.events().map(\.stream) == ["a"])
      #expect(try reader.append([], expectedVersions: ["a": 1]).firstPosition == 2)
      // The reader sees later appends of the writer.
      _ = try log.append([record("b")], expectedVersions: [:])
      #expect(try reader.lastPosition() == 2)
    }
  }

  @Test func writeProtectedFileRefusesAppends() throws {
    try withTemporaryDirectory { directory throws in
      let path = directory.appendingPathComponent("protected.sqlite").path
      do {
        let log = try SQLiteEventLog(path: path, options: .init(create: true))
        _ = try log.append([record("a")], expectedVersions: [:])
      }
      try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: path)
      defer {
        try? FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
      }
      // Root ignores permissions; then the read-only option stands in for them.
      let rootIgnoresPermissions = access(path, W_OK) == 0
      let log = try SQLiteEventLog(path: path, options: .init(readOnly: rootIgnoresPermissions))
      #expect(log.isReadOnly)
      #expect(throws: EventLogError.readOnly(path: path)) {
        try log.append([record("b")], expectedVersions: [:])
      }
      #expect(try log.lastPosition() == 1)
    }
  }

  @Test func inMemoryLogsAreIndependent() throws {
    let first = try SQLiteEventLog.inMemory()
    let second = try SQLiteEventLog.inMemory()
    _ = try first.append([record("a")], expectedVersions: [:])
    #expect(try second.lastPosition() == 0)
    #expect(first.path == ":memory:")
  }

  @Test func errorDescriptionsAreSentences() {
    let errors: [EventLogError] = [
      .versionConflict(stream: "a", expected: 1, actual: 2),
      .busy(path: "/x"),
      .fileNotFound(path: "/x"),
      .notAnEventLog(path: "/x"),
      .newerSchema(path: "/x", found: 2, supported: 1),
      .readOnly(path: "/x"),
      .sqlite(code: 10, message: "could not insert an event: disk I/O error"),
    ]
    for error in errors {
      #expect(error.description.hasSuffix("."))
      #expect(error.description.first?.isUppercase == true)
      #expect(error.description.count > 40)
    }
  }
}
