import CSQLite

/// One SQLite database connection with a cache of prepared statements.
///
/// It is not thread-safe: ``SQLiteEventLog`` serialises all use. The
/// connection is closed in `deinit` with `sqlite3_close_v2`, which also copes
/// with statements that are finalized later.
final class SQLiteConnection {
  /// The path the connection was opened with, for error messages.
  let path: String

  private let handle: OpaquePointer
  private var cache: [String: SQLiteStatement] = [:]

  /// Opens a connection.
  ///
  /// - Parameters:
  ///   - path: The database file, or `:memory:` for a private in-memory database.
  ///   - readOnly: Whether to open with `SQLITE_OPEN_READONLY`.
  ///   - create: Whether SQLite may create a missing file (ignored when read-only).
  init(path: String, readOnly: Bool, create: Bool) throws {
    var flags = readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE
    if create && !readOnly {
      flags |= SQLITE_OPEN_CREATE
    }
    // The event log serialises every use of the connection itself.
    flags |= SQLITE_OPEN_NOMUTEX
    var database: OpaquePointer?
    let code = sqlite3_open_v2(path, &database, flags, nil)
    guard code == SQLITE_OK, let database else {
      let error = EventLogError(
        sqliteCode: code, database: database, path: path, purpose: "open the database file")
      sqlite3_close_v2(database)
      throw error
    }
    sqlite3_extended_result_codes(database, 1)
    self.handle = database
    self.path = path
  }

  deinit {
    cache.removeAll()
    sqlite3_close_v2(handle)
  }

  /// Whether the database can't be written, because it was opened read-only
  /// or because SQLite fell back to read-only (the file is write-protected).
  var isReadOnly: Bool {
    sqlite3_db_readonly(handle, "main") == 1
  }

  /// Whether a transaction is open.
  var isInTransaction: Bool {
    sqlite3_get_autocommit(handle) == 0
  }

  /// Sets how long SQLite retries when another connection holds a lock.
  func setBusyTimeout(milliseconds: Int32) {
    sqlite3_busy_timeout(handle, milliseconds)
  }

  /// Runs one or more SQL statements that return no rows of interest.
  func execute(_ sql: String, purpose: String) throws {
    let code = sqlite3_exec(handle, sql, nil, nil, nil)
    guard code == SQLITE_OK else {
      throw EventLogError(sqliteCode: code, database: handle, path: path, purpose: purpose)
    }
  }

  /// Runs one SQL statement that returns no rows, prepared once and cached (a transaction's
  /// `BEGIN` and `COMMIT`: parsing them again costs as much as a small insert).
  func run(_ sql: String, purpose: String) throws {
    try withStatement(sql, purpose: purpose) { _ = try $0.step() }
  }

  /// Rolls back the open transaction, if any, ignoring failures: used on
  /// error paths where the original error is the one to report.
  func rollbackQuietly() {
    if isInTransaction {
      sqlite3_exec(handle, "ROLLBACK", nil, nil, nil)
    }
  }

  /// Runs `body` with a prepared statement for `sql`, then resets it.
  ///
  /// Statements are prepared once and cached. When the cached statement is
  /// already in use (a nested read), a fresh one is prepared for this call.
  func withStatement<Result>(
    _ sql: String,
    purpose: String,
    _ body: (SQLiteStatement) throws -> Result
  ) throws -> Result {
    let statement = try checkOut(sql, purpose: purpose)
    defer { checkIn(statement) }
    return try body(statement)
  }

  /// A prepared statement for `sql`, reserved for the caller until it is
  /// given back with ``checkIn(_:)``; `withStatement` is the scoped form.
  func checkOut(_ sql: String, purpose: String) throws -> SQLiteStatement {
    let statement: SQLiteStatement
    if let cached = cache[sql] {
      statement =
        cached.isCheckedOut
        ? try SQLiteStatement(database: handle, path: path, sql: sql, purpose: purpose) : cached
    } else {
      statement = try SQLiteStatement(database: handle, path: path, sql: sql, purpose: purpose)
      cache[sql] = statement
    }
    statement.isCheckedOut = true
    return statement
  }

  /// Resets a statement from ``checkOut(_:purpose:)`` and makes it available again.
  func checkIn(_ statement: SQLiteStatement) {
    statement.reset()
    statement.isCheckedOut = false
  }

  /// The first column of the first row of `sql` as an integer, or nil when
  /// there is no row or the value is NULL.
  func optionalInteger(
    _ sql: String,
    purpose: String,
    bind: (SQLiteStatement) throws -> Void = { _ in }
  ) throws -> Int64? {
    try withStatement(sql, purpose: purpose) { statement in
      try bind(statement)
      guard try statement.step(), !statement.isNull(at: 0) else { return nil }
      return statement.int64(at: 0)
    }
  }

  /// The first column of the first row of `sql` as an integer (0 when there
  /// is no row or the value is NULL).
  func integer(
    _ sql: String,
    purpose: String,
    bind: (SQLiteStatement) throws -> Void = { _ in }
  ) throws -> Int64 {
    try optionalInteger(sql, purpose: purpose, bind: bind) ?? 0
  }

  /// The first column of the first row of `sql` as text, or nil when there is no row.
  func text(_ sql: String, purpose: String) throws -> String? {
    try withStatement(sql, purpose: purpose) { statement in
      try statement.step() ? statement.text(at: 0) : nil
    }
  }
}
