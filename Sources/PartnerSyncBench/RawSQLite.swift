import CSQLite
import EventLog
import Foundation

/// The reference figures: the same rows written and read through SQLite's C API directly, with
/// no validation, no hashing, no decoding and no Swift strings, into the event log's own schema.
struct RawSQLiteError: Error, CustomStringConvertible {
  var description: String
}

/// Rows of the `events` table held in one byte buffer, so that the raw loops bind pointers and
/// allocate nothing per row.
struct RawRows {
  /// Where a column's bytes are in `bytes`.
  struct Span {
    var offset: Int
    var count: Int
  }

  struct Row {
    var position: Int64
    var version: Int64
    var time: Int64
    var stream: Span
    var type: Span
    var actor: Span
    var data: Span
    var hash: Span
  }

  var bytes: [UInt8] = []
  var rows: [Row] = []

  /// Reads every row of the log at `path`, in position order.
  static func load(path: String) throws -> RawRows {
    let database = try RawSQLite.open(path)
    defer { sqlite3_close_v2(database) }
    return try load(
      from: database, "SELECT position, stream, version, type, actor, time_us, data, hash FROM events ORDER BY position"
    )
  }

  /// Reads the row at `position` through `database`.
  static func load(from database: OpaquePointer, position: Int64) throws -> RawRows {
    try load(
      from: database,
      "SELECT position, stream, version, type, actor, time_us, data, hash FROM events WHERE position = \(position)")
  }

  private static func load(from database: OpaquePointer, _ sql: String) throws -> RawRows {
    var result = RawRows()
    try RawSQLite.withStatement(database, sql) { statement in
      while sqlite3_step(statement) == SQLITE_ROW {
        func copy(_ column: Int32) -> Span {
          let count = Int(sqlite3_column_bytes(statement, column))
          let offset = result.bytes.count
          if let pointer = sqlite3_column_blob(statement, column) {
            result.bytes.append(contentsOf: UnsafeRawBufferPointer(start: pointer, count: count))
          }
          return Span(offset: offset, count: count)
        }
        result.rows.append(
          Row(
            position: sqlite3_column_int64(statement, 0), version: sqlite3_column_int64(statement, 2),
            time: sqlite3_column_int64(statement, 5), stream: copy(1), type: copy(3), actor: copy(4),
            data: copy(6), hash: copy(7)))
      }
    }
    return result
  }
}

enum RawSQLite {
  static func open(_ path: String) throws -> OpaquePointer {
    var database: OpaquePointer?
    guard sqlite3_open_v2(path, &database, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK, let database
    else {
      sqlite3_close_v2(database)
      throw RawSQLiteError(description: "cannot open \(path)")
    }
    return database
  }

  static func execute(_ database: OpaquePointer, _ sql: String) throws {
    guard sqlite3_exec(database, sql, nil, nil, nil) == SQLITE_OK else {
      throw RawSQLiteError(description: "\(sql): \(String(cString: sqlite3_errmsg(database)))")
    }
  }

  static func withStatement<Result>(
    _ database: OpaquePointer, _ sql: String, _ body: (OpaquePointer) throws -> Result
  ) throws -> Result {
    var statement: OpaquePointer?
    guard sqlite3_prepare_v2(database, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
      throw RawSQLiteError(description: "\(sql): \(String(cString: sqlite3_errmsg(database)))")
    }
    defer { sqlite3_finalize(statement) }
    return try body(statement)
  }

  /// `SQLITE_STATIC`: SQLite reads the caller's memory until the statement is reset.
  private static var staticDestructor: sqlite3_destructor_type {
    unsafeBitCast(0, to: sqlite3_destructor_type.self)
  }

  private static let insertSQL = """
    INSERT INTO events (position, stream, version, type, actor, time_us, data, hash)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
    """

  /// Binds and steps one row (SQLite reads the caller's memory: nothing is copied beforehand).
  private static func insert(_ row: RawRows.Row, from base: UnsafeRawPointer, _ statement: OpaquePointer) throws {
    sqlite3_bind_int64(statement, 1, row.position)
    sqlite3_bind_int64(statement, 3, row.version)
    sqlite3_bind_int64(statement, 6, row.time)
    func bindText(_ span: RawRows.Span, at column: Int32) {
      sqlite3_bind_text64(
        statement, column, (base + span.offset).assumingMemoryBound(to: CChar.self), UInt64(span.count),
        staticDestructor, UInt8(SQLITE_UTF8))
    }
    bindText(row.stream, at: 2)
    bindText(row.type, at: 4)
    bindText(row.actor, at: 5)
    bindText(row.data, at: 7)
    sqlite3_bind_blob64(statement, 8, base + row.hash.offset, UInt64(row.hash.count), staticDestructor)
    guard sqlite3_step(statement) == SQLITE_DONE else {
      throw RawSQLiteError(description: "raw insert failed at position \(row.position)")
    }
    sqlite3_reset(statement)
  }

  /// Makes a new file of the log's schema at `path`, flushes dirty pages (`sync`), and inserts
  /// every row of `rows` into it (`insertAll`, `synchronous = FULL`); returns the seconds taken.
  static func insertIntoNewLog(_ rows: RawRows, path: String) throws -> Double {
    _ = try SQLiteEventLog(path: path, options: .init(create: true))
    let database = try open(path)
    defer { sqlite3_close_v2(database) }
    sync()
    return try insertAll(rows, range: 0..<rows.rows.count, into: database, synchronous: "FULL")
  }

  /// Inserts `rows` in one transaction, with the page cache the event log uses for large
  /// batches, and returns the seconds taken (begin to commit).
  static func insertAll(_ rows: RawRows, range: Range<Int>, into database: OpaquePointer, synchronous: String) throws
    -> Double
  {
    try execute(database, "PRAGMA synchronous = \(synchronous); PRAGMA cache_size = -65536")
    defer { try? execute(database, "PRAGMA cache_size = -2000") }
    return try rows.bytes.withUnsafeBytes { buffer in
      try withStatement(database, insertSQL) { statement in
        let base = buffer.baseAddress!
        let start = Stopwatch()
        try execute(database, "BEGIN IMMEDIATE")
        for index in range {
          try insert(rows.rows[index], from: base, statement)
        }
        try execute(database, "COMMIT")
        return start.seconds
      }
    }
  }

  /// Inserts each row in its own transaction and returns the seconds taken (`synchronous`, when
  /// given, is set first).
  static func insertEach(_ rows: RawRows, range: Range<Int>, into database: OpaquePointer, synchronous: String?)
    throws -> Double
  {
    if let synchronous { try execute(database, "PRAGMA synchronous = \(synchronous)") }
    return try rows.bytes.withUnsafeBytes { buffer in
      try withStatement(database, insertSQL) { statement in
        let base = buffer.baseAddress!
        let start = Stopwatch()
        for index in range {
          try execute(database, "BEGIN IMMEDIATE")
          try insert(rows.rows[index], from: base, statement)
          try execute(database, "COMMIT")
        }
        return start.seconds
      }
    }
  }

  /// Reads every column of every row in `order` and returns the seconds taken; the checksum
  /// keeps the reads from being optimised away.
  static func scan(path: String, order: String = "position", pragmas: String = "") throws
    -> (seconds: Double, rows: Int, checksum: Int)
  {
    let database = try open(path)
    defer { sqlite3_close_v2(database) }
    if !pragmas.isEmpty { try execute(database, pragmas) }
    return try withStatement(
      database, "SELECT position, stream, version, type, actor, time_us, data, hash FROM events ORDER BY \(order)"
    ) { statement in
      let start = Stopwatch()
      try execute(database, "BEGIN")
      var rows = 0
      var checksum = 0
      while sqlite3_step(statement) == SQLITE_ROW {
        rows += 1
        checksum &+= Int(sqlite3_column_int64(statement, 0)) &+ Int(sqlite3_column_int64(statement, 2))
        checksum &+= Int(sqlite3_column_int64(statement, 5))
        for column: Int32 in [1, 3, 4, 6] {
          if let text = sqlite3_column_text(statement, column) {
            checksum &+= Int(text[0]) &+ Int(sqlite3_column_bytes(statement, column))
          }
        }
        if let hash = sqlite3_column_blob(statement, 7) {
          checksum &+= Int(hash.load(as: UInt8.self)) &+ Int(sqlite3_column_bytes(statement, 7))
        }
      }
      try execute(database, "COMMIT")
      return (start.seconds, rows, checksum)
    }
  }
}
