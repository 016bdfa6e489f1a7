import CSQLite

extension EventLogError {
  /// Translates SQLite's (extended) result `code` into an event log error: the one place where
  /// that happens. `database` gives SQLite's message (nil if opening failed early); `purpose`,
  /// what the log was doing ("insert an event"), is put into the message; bound values never are.
  init(sqliteCode code: Int32, database: OpaquePointer?, path: String, purpose: String) {
    switch code & 0xFF {
    case SQLITE_BUSY, SQLITE_LOCKED:
      self = .busy(path: path)
    case SQLITE_READONLY:
      self = .readOnly(path: path)
    case SQLITE_NOTADB:
      self = .notAnEventLog(path: path)
    default:
      let detail =
        if let database, sqlite3_extended_errcode(database) == code || sqlite3_errcode(database) == code {
          String(cString: sqlite3_errmsg(database))
        } else {
          String(cString: sqlite3_errstr(code))
        }
      self = .sqlite(code: code, message: "could not \(purpose): \(detail)")
    }
  }

  /// A misuse of the log's API, reported with SQLite's misuse code.
  package static func misuse(_ message: String) -> EventLogError {
    .sqlite(code: SQLITE_MISUSE, message: message)
  }

  /// A log whose stored contents are damaged, reported with SQLite's corrupt code.
  package static func corrupt(_ message: String) -> EventLogError {
    .sqlite(code: SQLITE_CORRUPT, message: message)
  }

  /// Whether this error is a UNIQUE or PRIMARY KEY constraint failure, which
  /// an append reports as a version conflict.
  var isUniquenessViolation: Bool {
    guard case .sqlite(let code, _) = self else { return false }
    // SQLITE_CONSTRAINT_PRIMARYKEY and SQLITE_CONSTRAINT_UNIQUE; C macros
    // built with shifts are not imported into Swift.
    return code == SQLITE_CONSTRAINT | (6 << 8) || code == SQLITE_CONSTRAINT | (8 << 8)
  }
}
