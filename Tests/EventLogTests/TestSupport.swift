import CSQLite
import EventLog
import EventLogTesting
import Foundation
import PostgresEventLog

/// The backends the contract suite runs against: PostgreSQL's too when
/// `PARTNERSYNC_TEST_POSTGRES` names a database (`Scripts/postgres-start` prints one).
enum Backend: String, CaseIterable, CustomStringConvertible, Sendable {
  case sqliteFile
  case sqliteMemory
  case inMemory
  case postgres

  static var allCases: [Backend] {
    [.sqliteFile, .sqliteMemory, .inMemory] + (testPostgresURL == nil ? [] : [.postgres])
  }

  var description: String { rawValue }

  /// Runs `body` with a fresh, empty log of this backend.
  func withLog<Result>(_ body: (any EventLog & Sendable) throws -> Result) throws -> Result {
    switch self {
    case .sqliteFile:
      return try withTemporaryLog { try body($0) }
    case .sqliteMemory:
      return try body(SQLiteEventLog.inMemory())
    case .inMemory:
      return try body(InMemoryEventLog())
    case .postgres:
      return try withTemporaryPostgresLog { try body($0) }
    }
  }
}

/// The database the PostgreSQL tests use, from `PARTNERSYNC_TEST_POSTGRES`, or nil.
let testPostgresURL: String? = ProcessInfo.processInfo.environment["PARTNERSYNC_TEST_POSTGRES"].flatMap {
  $0.isEmpty ? nil : $0
}

/// The URL of a new log name in the test database (nothing is created).
func temporaryPostgresURL() -> String {
  let base = testPostgresURL ?? "postgresql://localhost/partnersync"
  let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(20)
  return base + (base.contains("?") ? "&" : "?") + "log=\(name)"
}

/// Runs `body` with a new PostgreSQL log in the test database, removed afterwards.
func withTemporaryPostgresLog<Result>(
  options: PostgresEventLog.Options = .init(create: true), _ body: (PostgresEventLog) throws -> Result
) throws -> Result {
  let location = try PostgresLocation(url: temporaryPostgresURL())
  defer { try? PostgresEventLog.remove(at: location) }
  return try body(try PostgresEventLog(location: location, options: options))
}

/// Runs `body` with the path of a new, empty temporary directory, removed afterwards.
func withTemporaryDirectory<Result>(_ body: (URL) throws -> Result) throws -> Result {
  let directory = FileManager.default.temporaryDirectory
    .appendingPathComponent("EventLogTests-\(UUID().uuidString)", isDirectory: true)
  try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: directory) }
  return try body(directory)
}

/// Runs `body` with a new SQLite event log in a temporary directory that is
/// removed afterwards; `log.path` is the file.
func withTemporaryLog<Result>(
  options: SQLiteEventLog.Options = .init(create: true, synchronous: .off),
  _ body: (SQLiteEventLog) throws -> Result
) throws -> Result {
  try withTemporaryDirectory { directory in
    let log = try SQLiteEventLog(
      path: directory.appendingPathComponent("events.sqlite").path, options: options)
    return try body(log)
  }
}

/// A small event; `n` varies the contents.
func record(_ stream: String, _ n: Int = 0, type: String = "noted", time: Int64? = nil)
  -> EventRecord
{
  EventRecord(
    stream: stream,
    type: type,
    actor: "tester",
    time: time ?? 1_700_000_000_000_000 + Int64(n),
    data: #"{"n":\#(n)}"#
  )
}

/// Collects the events a streaming read yields.
func collect(_ read: ((StoredEvent) throws -> Bool) throws -> Void) rethrows -> [StoredEvent] {
  var events: [StoredEvent] = []
  try read { event in
    events.append(event)
    return true
  }
  return events
}

/// The path of the sqlite3 command-line shell, if installed.
let sqliteShellPath: String? = ["/usr/bin/sqlite3", "/usr/local/bin/sqlite3"]
  .first { FileManager.default.isExecutableFile(atPath: $0) }

/// Runs the sqlite3 shell on `database` with `sql`; returns its exit status and output.
func runSQLiteShell(_ database: String, _ sql: String) throws -> (
  status: Int32, output: String, error: String
) {
  let result = try runProgram(sqliteShellPath ?? "/usr/bin/sqlite3", ["-batch", database, sql])
  return (result.status, result.output.trimmingCharacters(in: .whitespacesAndNewlines), result.error)
}

/// Runs `executable` with `arguments` to its end; returns its exit status, output and error output.
func runProgram(_ executable: String, _ arguments: [String]) throws -> (
  status: Int32, output: String, error: String
) {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: executable)
  process.arguments = arguments
  let output = Pipe()
  let error = Pipe()
  process.standardOutput = output
  process.standardError = error
  try process.run()
  let outputData = output.fileHandleForReading.readDataToEndOfFile()
  let errorData = error.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return (
    process.terminationStatus, String(decoding: outputData, as: UTF8.self), String(decoding: errorData, as: UTF8.self)
  )
}

/// A raw SQLite failure seen by the tests' own connection.
struct RawSQLiteError: Error, CustomStringConvertible {
  var code: Int32
  var message: String
  var description: String { "SQLite \(code): \(message)" }
}

/// A plain SQLite connection that bypasses the event log, used to inspect and
/// tamper with files.
final class RawDatabase {
  private let handle: OpaquePointer

  init(path: String) throws {
    var database: OpaquePointer?
    let code = sqlite3_open_v2(path, &database, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nil)
    guard code == SQLITE_OK, let database else {
      sqlite3_close_v2(database)
      throw RawSQLiteError(code: code, message: "open failed")
    }
    handle = database
  }

  deinit {
    sqlite3_close_v2(handle)
  }

  func execute(_ sql: String) throws {
    let code = sqlite3_exec(handle, sql, nil, nil, nil)
    guard code == SQLITE_OK else {
      throw RawSQLiteError(code: code, message: String(cString: sqlite3_errmsg(handle)))
    }
  }

  func integer(_ sql: String) throws -> Int64 {
    try text(sql).flatMap { Int64($0) } ?? 0
  }

  func text(_ sql: String) throws -> String? {
    var statement: OpaquePointer?
    guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK else {
      throw RawSQLiteError(
        code: sqlite3_errcode(handle), message: String(cString: sqlite3_errmsg(handle)))
    }
    defer { sqlite3_finalize(statement) }
    switch sqlite3_step(statement) {
    case SQLITE_ROW:
      return sqlite3_column_text(statement, 0).map { String(cString: $0) }
    case SQLITE_DONE:
      return nil
    case let code:
      throw RawSQLiteError(code: code, message: String(cString: sqlite3_errmsg(handle)))
    }
  }
}
