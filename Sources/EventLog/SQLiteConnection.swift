import CSQLite
import Glibc

/// One SQLite database connection with a cache of prepared statements, closed in `deinit` with
/// `sqlite3_close_v2` (which copes with statements finalized later). It is not thread-safe:
/// ``SQLiteEventLog`` serialises all use.
final class SQLiteConnection {
  /// The path the connection was opened with, for error messages.
  let path: String

  private let handle: OpaquePointer

  /// The schema version of the database (``SQLiteSchema``), once prepared: lower than the
  /// supported one only for an older log opened read-only.
  var schemaVersion = 0
  private var cache: [StatementKey: SQLiteStatement] = [:]

  /// The last event this connection appended, and the ``dataVersion`` its commit left: while the
  /// data version is still that one, no connection has written since, and the next append goes
  /// on from that event without reading it back.
  var lastAppended: (position: Int64, hash: [UInt8], dataVersion: UInt32)?

  /// Opens a connection to the event log at `path` (`:memory:` for a private in-memory
  /// database) as `options` say, and brings its schema up to date.
  init(path: String, options: SQLiteEventLog.Options) throws {
    var flags = options.readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE
    if options.create && !options.readOnly {
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
    sqlite3_busy_timeout(handle, options.busyTimeoutMilliseconds)
    try execute(
      "PRAGMA synchronous = \(options.synchronous.rawValue.uppercased())", purpose: "set the synchronous mode")
    try SQLiteSchema.prepare(self, openedReadOnly: options.readOnly)
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

  /// The database's data version (`SQLITE_FCNTL_DATA_VERSION`): it changes with every change of
  /// the file, through this connection or any other (also in other processes), as seen at the
  /// start of this connection's current or last transaction.
  var dataVersion: UInt32 {
    var version: UInt32 = 0
    sqlite3_file_control(handle, "main", SQLITE_FCNTL_DATA_VERSION, &version)
    return version
  }

  /// Runs one or more SQL statements that return no rows of interest.
  func execute(_ sql: String, purpose: String) throws {
    let code = sqlite3_exec(handle, sql, nil, nil, nil)
    guard code == SQLITE_OK else {
      throw EventLogError(sqliteCode: code, database: handle, path: path, purpose: purpose)
    }
  }

  /// Runs `body` in a transaction begun with `begin`, committing when it returns and rolling
  /// back when it (or the commit) throws; `purposes` name the beginning and the commit in errors.
  func transaction<Result>(
    _ begin: String, purposes: (begin: String, commit: String), _ body: () throws -> Result
  ) throws -> Result {
    // `BEGIN` and `COMMIT` run as prepared statements kept in the cache: parsing them again at
    // every transaction costs as much as a small insert.
    try withStatement(begin, purpose: purposes.begin) { _ = try $0.step() }
    do {
      let result = try body()
      try withStatement("COMMIT", purpose: purposes.commit) { _ = try $0.step() }
      return result
    } catch {
      // The error to report is the one that stopped the transaction.
      if sqlite3_get_autocommit(handle) == 0 {
        sqlite3_exec(handle, "ROLLBACK", nil, nil, nil)
      }
      throw error
    }
  }

  /// Runs `body` with a prepared statement for `sql`, then resets it.
  func withStatement<Result>(
    _ sql: String,
    purpose: String,
    _ body: (SQLiteStatement) throws -> Result
  ) throws -> Result {
    let statement = try checkOut(sql, purpose: purpose)
    defer { checkIn(statement) }
    return try body(statement)
  }

  /// A prepared statement for `sql`, reserved for the caller until it is given back with
  /// ``checkIn(_:)``. Statements are prepared once and cached; when the cached one is in use (a
  /// nested read), a fresh one is prepared.
  func checkOut(_ sql: String, purpose: String) throws -> SQLiteStatement {
    let statement: SQLiteStatement
    let key = StatementKey(sql: sql)
    let cached = cache[key]
    if let cached, !cached.isCheckedOut {
      statement = cached
    } else {
      statement = try SQLiteStatement(database: handle, path: path, sql: sql, purpose: purpose)
      if cached == nil { cache[key] = statement }
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
}

/// The text of a cached statement as the key of the cache: hashed by its length and its last
/// bytes only (hashing every byte cost a few thousand instructions an append, in five lookups),
/// compared byte for byte.
private struct StatementKey: Hashable {
  let sql: String

  func hash(into hasher: inout Hasher) {
    withBytes { hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: $0.suffix(16))) }
  }

  static func == (lhs: StatementKey, rhs: StatementKey) -> Bool {
    lhs.withBytes { left in
      rhs.withBytes { right in
        left.count == right.count && (left.isEmpty || memcmp(left.baseAddress!, right.baseAddress!, left.count) == 0)
      }
    }
  }

  private func withBytes<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
    if let result = sql.utf8.withContiguousStorageIfAvailable({ body(UnsafeRawBufferPointer($0)) }) {
      return result
    }
    return Array(sql.utf8).withUnsafeBytes(body)
  }
}
