/// What can go wrong when opening, reading or appending to an event log.
///
/// Every error that reaches a caller is one of these cases; SQLite result
/// codes are translated in one place (`EventLogError+SQLite.swift`), PostgreSQL's in the
/// `PostgresEventLog` module.
public enum EventLogError: Error, Equatable, CustomStringConvertible {
  /// A stale writer: `stream` is at version `actual`, but the caller based its
  /// decision on version `expected`. Nothing of the batch was written.
  case versionConflict(stream: String, expected: Int64, actual: Int64)

  /// The database stayed locked by another connection past the busy timeout.
  /// Nothing was written.
  case busy(path: String)

  /// There is no log there and the log was opened without `create`: the file
  /// does not exist, or it is an empty database opened read-only. No file was
  /// created.
  case fileNotFound(path: String)

  /// The file is not an event log: it is not SQLite at all, or it is a SQLite
  /// database of another application (another `application_id`, or foreign
  /// tables without one).
  case notAnEventLog(path: String)

  /// The file was written by a newer program: its schema version `found` is
  /// higher than the version `supported` by this one.
  case newerSchema(path: String, found: Int, supported: Int)

  /// A write was attempted on a log that is read-only, because it was opened
  /// read-only or because the file or its directory is not writable.
  case readOnly(path: String)

  /// The log was opened for writing on a standby server (a streaming replica in recovery), which
  /// serves reads only. Nothing was written; write to the primary, or open the log read-only.
  case standby(location: String)

  /// Any other failure. `code` is SQLite's extended result code (or
  /// `SQLITE_MISUSE`, 21, for a misuse of the log's API); `message` names what
  /// the log was doing and never contains bound values.
  case sqlite(code: Int32, message: String)

  /// The database server could not be reached, or the connection to it was lost (`location`
  /// names the server and the log, never a password). Nothing was written; retrying later may
  /// succeed.
  case unavailable(location: String, reason: String)

  /// A failure reported by a database server: `state` is its five-character SQLSTATE code;
  /// `message` names what the log was doing, and the server's message.
  case server(state: String, message: String)

  /// One full sentence saying what is wrong and what to do.
  public var description: String {
    switch self {
    case .versionConflict(let stream, let expected, let actual):
      return "Stream \"\(stream)\" is at version \(actual), not the expected version \(expected), "
        + "so nothing was written; reload the stream and decide again."
    case .busy(let path):
      return "The event log at \(path) stayed locked by another connection past the busy timeout, "
        + "so nothing was written; retry later or raise the busy timeout."
    case .fileNotFound(let path):
      return "No event log exists at \(path); check the path, "
        + "or open it with create enabled to make a new log."
    case .notAnEventLog(let path):
      return "The file at \(path) is not an event log "
        + "(it is not SQLite, or it belongs to another application); "
        + "check that the path names an event log file."
    case .newerSchema(let path, let found, let supported):
      return "The event log at \(path) has schema version \(found), "
        + "newer than the version \(supported) this program supports; "
        + "upgrade the program before opening it."
    case .readOnly(let path):
      return "The event log at \(path) is read-only, so the write was refused; "
        + "open it read-write with permission to write the file and its directory."
    case .standby(let location):
      return "The event log at \(location) is on a standby server (a read-only replica), "
        + "so nothing can be written there; write to the primary, or open the log read-only to read it."
    case .sqlite(let code, let message):
      return "The event log failed with SQLite code \(code) (\(message)); "
        + "check the disk and the database file, and retry."
    case .unavailable(let location, let reason):
      return "The event log at \(location) cannot be reached (\(reason)), "
        + "so nothing was written; check that the database server is up, and retry."
    case .server(let state, let message):
      return "The event log's database server failed with SQLSTATE \(state) (\(message)); "
        + "check the server's log, and retry."
    }
  }
}
