import EventLog
import Foundation
import PostgresEventLog
import Testing

/// What only the PostgreSQL log has: logs by name in one database, its schema's guards, its
/// errors, and writers on several connections. Runs when `PARTNERSYNC_TEST_POSTGRES` is set
/// (`Scripts/test` says when it is not).
@Suite("PostgreSQL event log", .enabled(if: testPostgresURL != nil))
struct PostgresEventLogTests {
  @Test func aMissingLogIsNotCreatedWithoutCreate() throws {
    let url = temporaryPostgresURL()
    let location = try PostgresLocation(url: url).description
    #expect(throws: EventLogError.fileNotFound(path: location)) {
      try PostgresEventLog(url: url)
    }
    // Still missing: opening it did not create it.
    #expect(throws: EventLogError.self) { try PostgresEventLog(url: url, options: .init(readOnly: true)) }
  }

  /// A log opened with `createWithFirstAppend` is made by its first append, in the same
  /// transaction: until then it reads as empty, and an append that fails leaves no log.
  @Test func aLogCreatedWithItsFirstAppendIsNotLeftBehindByAFailedOne() throws {
    let location = try PostgresLocation(url: temporaryPostgresURL())
    defer { try? PostgresEventLog.remove(at: location) }
    let log = try PostgresEventLog(location: location, options: .init(create: true, createWithFirstAppend: true))
    #expect(try log.lastPosition() == 0)
    #expect(try log.events().isEmpty)
    struct Refused: Error {}
    #expect(throws: Refused.self) {
      try log.append(expectedVersions: [:]) { appender in
        try appender.append(record("a", 1))
        throw Refused()
      }
    }
    #expect(throws: EventLogError.fileNotFound(path: location.description)) {
      try PostgresEventLog(location: location)
    }
    _ = try log.append([record("a", 1)], expectedVersions: ["a": 0])
    #expect(try PostgresEventLog(location: location).verify() == VerifyReport(events: 1))
  }

  @Test func logsOfOneDatabaseKeepTheirOwnPositionsAndChains() throws {
    try withTemporaryPostgresLog { first throws in
      try withTemporaryPostgresLog { second throws in
        _ = try first.append([record("a", 1), record("a", 2)], expectedVersions: [:])
        _ = try second.append([record("a", 3)], expectedVersions: ["a": 0])
        #expect(try first.lastPosition() == 2)
        #expect(try second.lastPosition() == 1)
        #expect(try second.events().map(\.data) == [#"{"n":3}"#])
        #expect(try first.verify() == VerifyReport(events: 2))
        #expect(try second.verify() == VerifyReport(events: 1))
      }
    }
  }

  /// A table that maintenance holds (`VACUUM FULL`, `REINDEX`, `ALTER`): reads give up after the
  /// log's lock timeout, busy, as writes do, single statements and snapshots alike.
  @Test func readsGiveUpOnATableLockAfterTheLockTimeout() throws {
    try withTemporaryPostgresLog { log throws in
      _ = try log.append([record("a", 1)], expectedVersions: [:])
      let schema = "\"\(log.location.schema)\""
      let holder = Process()
      holder.executableURL = URL(fileURLWithPath: "/bin/sh")
      holder.arguments = [
        "-c", #"exec "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/psql" -X -q -d "$1" -c "$2""#, "psql",
        log.location.connectionURL,
        "BEGIN; LOCK TABLE \(schema).events IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(6); COMMIT;",
      ]
      try holder.run()
      defer { holder.waitUntilExit() }
      let reader = try PostgresEventLog(location: log.location, options: .init(lockTimeoutMilliseconds: 300))
      // Until the lock is held: a read that goes through.
      let deadline = Date().addingTimeInterval(5)
      while (try? reader.lastPosition()) != nil, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
      let reads: [(String, () throws -> Void)] = [
        ("the last position", { _ = try reader.lastPosition() }),
        ("a stream's version", { _ = try reader.version(of: "a") }),
        ("a stream's events", { try reader.forEachEvent(inStream: "a", throughPosition: nil) { _ in true } }),
      ]
      for (name, read) in reads {
        let started = Date()
        #expect(throws: EventLogError.busy(path: log.location.description), "\(name)") { try read() }
        #expect(Date().timeIntervalSince(started) < 3, "\(name)")
      }
      // Once the lock is gone, the same log reads again.
      holder.waitUntilExit()
      #expect(try reader.lastPosition() == 1)
      #expect(try reader.version(of: "a") == 1)
    }
  }

  /// The server ends an idle connection (a restart, `pg_terminate_backend`): the next read is
  /// made again on a new connection, instead of failing as unavailable once.
  @Test func aReadAfterTheServerEndedTheConnectionConnectsAgain() throws {
    try withTemporaryPostgresLog { log throws in
      _ = try log.append([record("a", 1)], expectedVersions: [:])
      #expect(try log.lastPosition() == 1)
      let schema = log.location.schema
      let ended = try runPSQL(
        log.location,
        "SELECT 'ended:' || count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
          + "AND datname = current_database() AND query LIKE '%\(schema)%'")
      #expect(ended.status == 0 && ended.output.contains("ended:1"), "\(ended)")
      Thread.sleep(forTimeInterval: 0.2)
      #expect(try log.lastPosition() == 1)
      #expect(try log.events().count == 1)
    }
  }

  @Test func theEventsRefuseUpdateDeleteAndTruncate() throws {
    try withTemporaryPostgresLog { log throws in
      _ = try log.append([record("a", 1)], expectedVersions: [:])
      let schema = "\"\(log.location.schema)\""
      for sql in [
        "UPDATE \(schema).events SET data = '\\x7b7d'", "DELETE FROM \(schema).events",
        "TRUNCATE \(schema).events",
      ] {
        let result = try runPSQL(log.location, sql)
        #expect(result.status != 0, "\(sql)")
        #expect(result.error.contains("events are append-only"), "\(sql): \(result.error)")
      }
      #expect(try log.verify() == VerifyReport(events: 1))
    }
  }

  /// The role the engines write with, given only the rights of Docs/deployment.md: it appends
  /// and reads, and cannot change, delete or truncate events, nor disable the triggers. (The
  /// test database's role needs CREATEROLE, which `Scripts/postgres-start` gives it.)
  @Test func aRoleWithoutUpdateOrDeleteRightsOnlyAppendsAndReads() throws {
    let role = "ps_app_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
    let owner = try PostgresLocation(url: try #require(testPostgresURL))
    defer { _ = try? runPSQL(owner, "DROP ROLE IF EXISTS \(role)") }
    try withTemporaryPostgresLog { log throws in
      _ = try log.append([record("a", 1)], expectedVersions: [:])
      let schema = "\"\(log.location.schema)\""
      let granted = try runPSQL(
        log.location,
        """
        CREATE ROLE \(role) LOGIN;
        GRANT USAGE ON SCHEMA \(schema) TO \(role);
        GRANT SELECT ON \(schema).log_info, \(schema).events_readable TO \(role);
        GRANT SELECT, INSERT ON \(schema).events TO \(role);
        GRANT SELECT, INSERT, UPDATE, DELETE ON \(schema).outbox, \(schema).outbox_filling TO \(role);
        """)
      #expect(granted.status == 0, "\(granted.error)")
      var components = try #require(URLComponents(string: log.location.connectionURL))
      components.user = role
      components.password = nil
      let url = try #require(components.string)
      let app = try PostgresEventLog(url: url + (url.contains("?") ? "&" : "?") + "log=" + log.location.logName)
      _ = try app.append([record("a", 2)], expectedVersions: ["a": 1])
      #expect(try app.events().map(\.data) == [#"{"n":1}"#, #"{"n":2}"#])
      #expect(try app.verify() == VerifyReport(events: 2))
      let appLocation = try PostgresLocation(url: url)
      for (sql, refusal) in [
        ("UPDATE \(schema).events SET data = '\\x7b7d'", "permission denied"),
        ("DELETE FROM \(schema).events", "permission denied"),
        ("TRUNCATE \(schema).events", "permission denied"),
        ("ALTER TABLE \(schema).events DISABLE TRIGGER ALL", "must be owner"),
        ("SET session_replication_role = replica", "permission denied"),
      ] {
        let result = try runPSQL(appLocation, sql)
        #expect(result.status != 0 && result.error.contains(refusal), "\(sql): \(result.error)")
      }
      #expect(try log.verify() == VerifyReport(events: 2))
    }
  }

  @Test func aSchemaOfAnotherApplicationIsNotAnEventLog() throws {
    let url = temporaryPostgresURL()
    let location = try PostgresLocation(url: url)
    defer { try? PostgresEventLog.remove(at: location) }
    let created = try runPSQL(
      location, "CREATE SCHEMA \"\(location.schema)\"; CREATE TABLE \"\(location.schema)\".t (x int)")
    #expect(created.status == 0, "\(created.error)")
    #expect(throws: EventLogError.notAnEventLog(path: location.description)) {
      try PostgresEventLog(location: location, options: .init(create: true))
    }
  }

  @Test func urlsNameTheLogAndHideThePassword() throws {
    let location = try PostgresLocation(
      url: "postgresql://ann:secret@db.example.com:5433/ps?sslmode=require&log=acme_eu")
    #expect(location.logName == "acme_eu")
    #expect(location.schema == "partnersync_acme_eu")
    #expect(location.connectionURL == "postgresql://ann:secret@db.example.com:5433/ps?sslmode=require")
    #expect(!location.description.contains("secret"))
    #expect(try PostgresLocation(url: "postgres://db/ps").logName == "main")
    for invalid in ["postgresql://db/ps?log=Acme", "postgresql://db/ps?log=a-b", "postgresql://db/ps?log=", "/tmp/x"] {
      #expect(throws: PostgresLocation.Invalid.self, "\(invalid)") { try PostgresLocation(url: invalid) }
    }
  }

  @Test func aServerThatIsDownIsUnavailable() throws {
    // A port nothing listens on.
    let started = Date()
    #expect {
      try PostgresEventLog(url: "postgresql://nobody@127.0.0.1:1/none?log=x")
    } throws: { error in
      guard case .unavailable = error as? EventLogError else { return false }
      return true
    }
    #expect(Date().timeIntervalSince(started) < 10)
  }

  @Test func aDatabaseThatDoesNotExistIsNotFound() throws {
    let url = try #require(testPostgresURL)
    var components = try #require(URLComponents(string: url))
    components.path = "/partnersync_no_such_database"
    #expect {
      try PostgresEventLog(url: components.string! + "?log=x")
    } throws: { error in
      guard case .fileNotFound = error as? EventLogError else { return false }
      return true
    }
  }

  /// Writers on separate connections, as in separate processes: every append that was based on
  /// the stream's current version lands, gap-free and chained in commit order; the others
  /// conflict and write nothing.
  @Test func appendsFromManyConnectionsSerialise() throws {
    try withTemporaryPostgresLog { log throws in
      let base = log.location.connectionURL
      let url = base + (base.contains("?") ? "&" : "?") + "log=" + log.location.logName
      let conflicts = Counter()
      DispatchQueue.concurrentPerform(iterations: 6) { worker in
        guard let own = try? PostgresEventLog(url: url) else { return conflicts.add(1000) }
        for round in 0..<20 {
          // Every writer appends to its own stream and to one shared stream.
          let shared = (try? own.version(of: "shared")) ?? -1
          do {
            _ = try own.append(
              [record("w\(worker)", round), record("shared", round)],
              expectedVersions: ["w\(worker)": Int64(round), "shared": shared])
          } catch EventLogError.versionConflict {
            conflicts.add(1)
            // Retried once the conflict is seen, on the stream's new version.
            while true {
              let now = (try? own.version(of: "shared")) ?? -1
              do {
                _ = try own.append(
                  [record("w\(worker)", round), record("shared", round)],
                  expectedVersions: ["w\(worker)": Int64(round), "shared": now])
                break
              } catch EventLogError.versionConflict {
                continue
              } catch {
                return conflicts.add(1000)
              }
            }
          } catch {
            return conflicts.add(1000)
          }
        }
      }
      #expect(conflicts.value < 1000)
      #expect(try log.lastPosition() == 6 * 20 * 2)
      #expect(try log.version(of: "shared") == 6 * 20)
      #expect(try log.version(of: "w5") == 20)
      #expect(try log.verify() == VerifyReport(events: 240))
    }
  }

  /// Two logs on one schema, as two processes. After an append that found the log as the one
  /// before left it, an append guesses its last position; another writer's append in between
  /// makes the guess fail without writing anything, and the append after it does not guess.
  @Test func anAppendOnAGuessWritesNothingWhenAnotherWriterCameBetween() throws {
    try withTemporaryPostgresLog { log throws in
      let other = try PostgresEventLog(location: log.location)
      _ = try log.append([record("a", 1)], expectedVersions: ["a": 0])
      _ = try log.append([record("a", 2)], expectedVersions: ["a": 1])
      // Each count of events: those inserted with the guess's checks, and more than that.
      for count in [1, 20] {
        let version = try log.version(of: "a")
        let next = try log.lastPosition() + 1
        _ = try other.append([record("b", count)], expectedVersions: [:])
        var announced: [Int64] = []
        let guessed = try log.appendGuessingPosition(expectedVersions: ["a": version]) { appender in
          announced.append(appender.firstPosition)
          for n in 0..<count { try appender.append(record("a", n)) }
        }
        #expect(guessed == nil, "the guess of \(count) events held though another writer appended")
        #expect(announced == [next])  // the position after this log's last append
        #expect(try log.lastPosition() == next)
        // Not guessing now: produced once, at the right position.
        _ = try other.append([record("b", count + 1)], expectedVersions: [:])
        let appended = try #require(
          try log.appendGuessingPosition(expectedVersions: ["a": version]) { appender in
            announced.append(appender.firstPosition)
            for n in 0..<count { try appender.append(record("a", n)) }
          })
        #expect(announced == [next, next + 2])
        #expect(appended.firstPosition == next + 2 && appended.lastPosition == next + 1 + Int64(count))
        #expect(appended.versions["a"] == version + Int64(count))
        // After a failed guess, two appends that find the log as the one before left it: the
        // next one guesses again.
        _ = try log.append([record("a", 0)], expectedVersions: ["a": version + Int64(count)])
        _ = try log.append([record("a", 0)], expectedVersions: ["a": version + Int64(count) + 1])
      }
      #expect(try log.verify() == VerifyReport(events: 2 + (2 + 1 + 2) + (2 + 20 + 2)))
    }
  }

  /// On a guess, the events are written in one round-trip (16 or fewer, of expected streams) or
  /// with the transaction begun at the seventeenth, as an append without a guess writes them,
  /// with their outbox messages.
  @Test func appendsOnAGuessWriteWhatAppendsWithoutOneWrite() throws {
    let counts = [2, 3, 16, 17, 40, 2]
    func append(_ log: PostgresEventLog, guessing: Bool) throws -> [AppendResult?] {
      // Two appends that find the log as they left it: the next ones guess.
      _ = try log.append([record("a", 1)], expectedVersions: ["a": 0])
      _ = try log.append([record("a", 2)], expectedVersions: ["a": 1])
      return try counts.enumerated().map { index, count in
        // The expected streams (written in one round-trip up to 16 events), or none.
        let expected = index.isMultiple(of: 2) ? ["a": try log.version(of: "a"), "s\(index)": 0] : [:]
        func produce(_ appender: EventAppender) throws {
          for n in 0..<count {
            var event = record(n.isMultiple(of: 3) ? "a" : "s\(index)", n)
            event.outbox = n.isMultiple(of: 2) ? [OutboxItem(recipient: "r\(n % 4)", data: "{\"n\":\(n)}")] : []
            try appender.append(event)
          }
        }
        return guessing
          ? try log.appendGuessingPosition(expectedVersions: expected, produce)
          : try log.append(expectedVersions: expected, produce)
      }
    }
    func outbox(_ log: PostgresEventLog) throws -> [OutboxMessage] {
      var messages: [OutboxMessage] = []
      try log.forEachOutboxMessage(after: .start, recipient: nil) {
        messages.append($0)
        return true
      }
      return messages
    }
    try withTemporaryPostgresLog { guessing throws in
      try withTemporaryPostgresLog { plain throws in
        let guessed = try append(guessing, guessing: true)
        #expect(guessed == (try append(plain, guessing: false)))
        #expect(guessed.last??.lastPosition == 2 + Int64(counts.reduce(0, +)))
        #expect(try guessing.events() == plain.events())
        #expect(try outbox(guessing) == outbox(plain))
        #expect(try outbox(guessing).count == counts.map { ($0 + 1) / 2 }.reduce(0, +))
        #expect(try guessing.verify() == VerifyReport(events: 2 + Int64(counts.reduce(0, +))))
      }
    }
  }

  /// A log removed and created again under its name while a log on it is open: the guess does
  /// not hold (the table is another), and the append lands after the new log's last event.
  @Test func aGuessDoesNotHoldOnALogCreatedAgain() throws {
    let location = try PostgresLocation(url: temporaryPostgresURL())
    defer { try? PostgresEventLog.remove(at: location) }
    let log = try PostgresEventLog(location: location, options: .init(create: true))
    for n in 1...3 { _ = try log.append([record("a", n)], expectedVersions: ["a": Int64(n - 1)]) }
    try PostgresEventLog.remove(at: location)
    let again = try PostgresEventLog(location: location, options: .init(create: true))
    _ = try again.append([record("b", 1)], expectedVersions: [:])
    var announced: [Int64] = []
    #expect(
      try log.appendGuessingPosition(expectedVersions: ["b": 1]) { appender in
        announced.append(appender.firstPosition)
        try appender.append(record("b", 2))
      } == nil)
    #expect(announced == [4])
    #expect(try log.append([record("b", 2)], expectedVersions: ["b": 1]).firstPosition == 2)
    #expect(try again.verify() == VerifyReport(events: 2))
  }

  /// Streams whose names Swift's strings hold equal and the database does not (`é` as one scalar
  /// or as `e` and a combining accent): a guess never takes one's known version for the other's.
  @Test func aGuessTellsApartStreamsThatOnlyLookAlike() throws {
    try withTemporaryPostgresLog { log throws in
      let (composed, decomposed) = ("T\u{e9}", "Te\u{301}")
      _ = try log.append([record(composed, 1)], expectedVersions: [composed: 0])
      _ = try log.append([record(composed, 2)], expectedVersions: [composed: 1])
      #expect(throws: EventLogError.self) {
        try log.appendGuessingPosition(expectedVersions: [decomposed: 2]) { try $0.append(record(decomposed, 3)) }
      }
      #expect(
        try log.appendGuessingPosition(expectedVersions: [decomposed: 0]) { try $0.append(record(decomposed, 3)) }
          != nil)
      #expect(try log.verify() == VerifyReport(events: 3))
    }
  }

  /// A stale expectation is a version conflict on a guess as without one: found on the server when
  /// the guessed last event holds, else by the append after the failed guess; nothing is written.
  @Test func aConflictOnAGuessIsTheConflictWithoutOne() throws {
    try withTemporaryPostgresLog { log throws in
      let other = try PostgresEventLog(location: log.location)
      _ = try log.append([record("a", 1)], expectedVersions: ["a": 0])
      _ = try log.append([record("a", 2), record("b", 2)], expectedVersions: ["a": 1])
      // The log is as guessed; the expectations are not.
      for (stream, expected, actual) in [("a", 1, 2), ("a", 9, 3), ("b", 0, 1), ("c", 4, 0)] as [(String, Int64, Int64)]
      {
        var expectations = ["a": try log.version(of: "a")]
        expectations[stream] = expected
        #expect(throws: EventLogError.versionConflict(stream: stream, expected: expected, actual: actual)) {
          try log.append([record("a", 3)], expectedVersions: expectations)
        }
        // An append that finds the log as the last one left it: the next one guesses again.
        _ = try log.append([record("a", 3)], expectedVersions: [:])
      }
      #expect(try log.lastPosition() == 7)
      // Another writer appends to `a`.
      _ = try other.append([record("a", 5)], expectedVersions: ["a": 6])
      var produced = 0
      #expect(
        try log.appendGuessingPosition(expectedVersions: ["a": 6]) { appender in
          produced += 1
          try appender.append(record("a", 6))
        } == nil)
      #expect(throws: EventLogError.versionConflict(stream: "a", expected: 6, actual: 7)) {
        try log.append(expectedVersions: ["a": 6]) { _ in produced += 1 }
      }
      #expect(produced == 1)
      #expect(try log.lastPosition() == 8)
      #expect(try log.verify() == VerifyReport(events: 8))
    }
  }
}

/// A count shared between threads.
final class Counter: @unchecked Sendable {
  private let lock = NSLock()
  private var count = 0
  func add(_ n: Int) { lock.withLock { count += n } }
  var value: Int { lock.withLock { count } }
}

/// Runs psql (of the newest PostgreSQL installed) on the database of `location` with `sql`.
func runPSQL(_ location: PostgresLocation, _ sql: String) throws -> (status: Int32, output: String, error: String) {
  let bins = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
  let psql = bins.sorted { $0.compare($1, options: .numeric) == .orderedAscending }.last.map {
    "/usr/lib/postgresql/\($0)/bin/psql"
  }
  return try runProgram(
    psql ?? "/usr/bin/psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", location.connectionURL, "-c", sql])
}
