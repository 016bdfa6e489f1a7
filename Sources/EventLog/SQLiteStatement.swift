import CSQLite

/// A prepared SQLite statement: binds parameters, steps rows, reads columns; finalized in
/// `deinit`. It is not thread-safe; ``SQLiteEventLog`` serialises all use of its connection.
///
/// Failures are thrown as ``EventLogError`` values; `purpose` names what the statement is for
/// and is the only context put into error messages: bound values never are.
final class SQLiteStatement {
  /// What the statement is for, such as "insert an event"; used in errors.
  let purpose: String

  /// Whether a caller is using the statement right now (see `SQLiteConnection.checkOut`).
  var isCheckedOut = false

  private let handle: OpaquePointer
  private let database: OpaquePointer
  private let path: String

  /// Prepares `sql` on `database`.
  init(database: OpaquePointer, path: String, sql: String, purpose: String) throws {
    var statement: OpaquePointer?
    let code = sqlite3_prepare_v3(database, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
    guard code == SQLITE_OK, let statement else {
      sqlite3_finalize(statement)
      throw EventLogError(sqliteCode: code, database: database, path: path, purpose: "prepare to \(purpose)")
    }
    self.handle = statement
    self.database = database
    self.path = path
    self.purpose = purpose
  }

  deinit {
    sqlite3_finalize(handle)
  }

  /// Runs the statement to its next row: true when a row is available, false
  /// when the statement is done.
  @inline(__always)
  func step() throws -> Bool {
    switch sqlite3_step(handle) {
    case SQLITE_ROW:
      return true
    case SQLITE_DONE:
      return false
    case let code:
      throw failure(code)
    }
  }

  /// Rewinds the statement so it can run again, keeping its bindings.
  @inline(__always)
  func rewind() {
    sqlite3_reset(handle)
  }

  /// Rewinds the statement and clears its bindings, so no binding keeps
  /// pointing at memory the caller owned.
  func reset() {
    sqlite3_reset(handle)
    sqlite3_clear_bindings(handle)
  }

  /// Binds an integer to the parameter at `index` (1-based).
  @inline(__always)
  func bind(_ value: Int64, at index: Int32) throws {
    try check(sqlite3_bind_int64(handle, index, value))
  }

  /// Binds a string to the parameter at `index` (1-based); SQLite copies it.
  func bind(_ value: String, at index: Int32) throws {
    try value.withUTF8Bytes { try bindUnretained(text: $0, at: index, copying: true) }
  }

  /// Binds UTF-8 text; without `copying`, the caller must keep `bytes` valid until the statement
  /// has been stepped and then re-bound or reset.
  @inline(__always)
  func bindUnretained(text bytes: UnsafeBufferPointer<UInt8>, at index: Int32, copying: Bool = false) throws {
    guard let base = bytes.baseAddress, !bytes.isEmpty else {
      // A nil pointer would bind NULL; bind an empty string instead.
      try check(sqlite3_bind_text(handle, index, "", 0, Self.transient))
      return
    }
    let text = UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self)
    let destructor = copying ? Self.transient : Self.static
    try check(sqlite3_bind_text64(handle, index, text, UInt64(bytes.count), destructor, UInt8(SQLITE_UTF8)))
  }

  /// Binds a blob without copying it: the caller must keep `bytes` valid until the statement
  /// has been stepped and then re-bound or reset.
  @inline(__always)
  func bindUnretained(blob bytes: UnsafeRawBufferPointer, at index: Int32) throws {
    guard let base = bytes.baseAddress, !bytes.isEmpty else {
      try check(sqlite3_bind_zeroblob(handle, index, 0))
      return
    }
    try check(sqlite3_bind_blob64(handle, index, base, UInt64(bytes.count), Self.static))
  }

  /// Whether the column at `index` (0-based) of the current row is NULL.
  func isNull(at index: Int32) -> Bool {
    sqlite3_column_type(handle, index) == SQLITE_NULL
  }

  /// The integer in the column at `index` (0-based) of the current row.
  @inline(__always)
  func int64(at index: Int32) -> Int64 {
    sqlite3_column_int64(handle, index)
  }

  /// The text in the column at `index` (0-based) of the current row.
  func text(at index: Int32) -> String {
    String(decoding: textBytes(at: index), as: UTF8.self)
  }

  /// The bytes of the text in the column at `index` (0-based) of the current
  /// row, valid until the statement is stepped, reset or finalized.
  @inline(__always)
  func textBytes(at index: Int32) -> UnsafeBufferPointer<UInt8> {
    UnsafeBufferPointer(start: sqlite3_column_text(handle, index), count: Int(sqlite3_column_bytes(handle, index)))
  }

  /// The bytes of the blob in the column at `index` (0-based) of the current
  /// row, valid until the statement is stepped, reset or finalized.
  @inline(__always)
  func blobBytes(at index: Int32) -> UnsafeBufferPointer<UInt8> {
    let blob = sqlite3_column_blob(handle, index)?.assumingMemoryBound(to: UInt8.self)
    return UnsafeBufferPointer(start: blob, count: Int(sqlite3_column_bytes(handle, index)))
  }

  @inline(__always)
  private func check(_ code: Int32) throws {
    guard code == SQLITE_OK else { throw failure(code) }
  }

  private func failure(_ code: Int32) -> EventLogError {
    EventLogError(sqliteCode: code, database: database, path: path, purpose: purpose)
  }

  /// SQLite copies the value before the bind call returns.
  private static var transient: sqlite3_destructor_type {
    unsafeBitCast(-1, to: sqlite3_destructor_type.self)
  }

  /// SQLite uses the caller's memory until the next bind or reset.
  /// (`SQLITE_STATIC` is a null pointer; this SDK imports the type as non-optional.)
  private static var `static`: sqlite3_destructor_type {
    unsafeBitCast(0, to: sqlite3_destructor_type.self)
  }
}
