import Foundation

/// An event log stored in a SQLite database file.
///
/// ```swift
/// let log = try SQLiteEventLog(path: "events.sqlite", options: .init(create: true))
/// let result = try log.append(
///   [EventRecord(stream: "ticket-1", type: "opened", actor: "ann", time: 0, data: "{}")],
///   expectedVersions: ["ticket-1": 0])
/// ```
///
/// One instance may be shared between threads: every call is serialised
/// (see `lock`). Several instances, also in other processes, may use one file (in WAL mode,
/// readers do not wait for an append); appends queue on SQLite's write lock for up to the busy
/// timeout.
public final class SQLiteEventLog: EventLogWriter, @unchecked Sendable {
  /// How SQLite syncs writes to disk (`PRAGMA synchronous`).
  public enum Synchronous: String, Sendable {
    /// Never sync: fastest, but a power loss can corrupt the file.
    case off
    /// Sync at checkpoints: a power loss may lose the last appends, never corrupt.
    case normal
    /// Sync at every commit: an append that returned survives a power loss.
    case full
  }

  /// How to open the log.
  public struct Options: Sendable {
    /// Create the file when it does not exist. Without it, opening a missing
    /// file throws ``EventLogError/fileNotFound(path:)`` and creates nothing.
    public var create: Bool = false

    /// Open with `SQLITE_OPEN_READONLY`; appends throw ``EventLogError/readOnly(path:)``.
    public var readOnly: Bool = false

    /// How long to wait for another connection's lock before throwing
    /// ``EventLogError/busy(path:)``.
    public var busyTimeoutMilliseconds: Int32 = 5000

    /// How SQLite syncs writes to disk.
    public var synchronous: Synchronous = .full

    /// Creates options; the defaults open an existing file read-write with
    /// full syncing and a five-second busy timeout.
    public init(
      create: Bool = false,
      readOnly: Bool = false,
      busyTimeoutMilliseconds: Int32 = 5000,
      synchronous: Synchronous = .full
    ) {
      self.create = create
      self.readOnly = readOnly
      self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
      self.synchronous = synchronous
    }
  }

  /// The database file's path (`:memory:` for ``inMemory()``).
  public let path: String

  /// The options the log was opened with.
  public let options: Options

  /// Serialises every call: SQLite's own mutex protects single API calls, not a BEGIN…COMMIT
  /// sequence or a bind/step/reset cycle.
  let lock = LogLock()

  /// The connection; used only while holding `lock`.
  let connection: SQLiteConnection

  /// Opens (or, with `options.create`, creates) the event log at `path`.
  ///
  /// - Throws: ``EventLogError/fileNotFound(path:)`` when the file is missing
  ///   and `create` is off (nothing is created) or is an empty database opened
  ///   read-only,
  ///   ``EventLogError/notAnEventLog(path:)`` when the file is not an event log,
  ///   ``EventLogError/newerSchema(path:found:supported:)`` when a newer program
  ///   wrote it, ``EventLogError/readOnly(path:)`` when a read-only log would
  ///   need its schema written.
  public convenience init(path: String, options: Options = .init()) throws {
    let existed = FileManager.default.fileExists(atPath: path)
    guard existed || (options.create && !options.readOnly) else {
      throw EventLogError.fileNotFound(path: path)
    }
    let connection: SQLiteConnection
    do {
      connection = try SQLiteConnection(path: path, options: options)
    } catch {
      if !existed, error as? EventLogError != .busy(path: path) {
        SQLiteEventLog.removeFiles(of: path)
      }
      throw error
    }
    self.init(connection: connection, path: path, options: options)
  }

  private init(connection: SQLiteConnection, path: String, options: Options) {
    self.connection = connection
    self.path = path
    self.options = options
  }

  /// Creates an empty log in a private in-memory SQLite database; it
  /// disappears when the instance is released.
  public static func inMemory() throws -> SQLiteEventLog {
    let options = Options(create: true)
    return SQLiteEventLog(
      connection: try SQLiteConnection(path: ":memory:", options: options), path: ":memory:", options: options)
  }

  /// Whether appends are refused: opened read-only, or the file is write-protected.
  public var isReadOnly: Bool {
    lock.withLock { options.readOnly || connection.isReadOnly }
  }

  /// Runs `body`, a single statement, while holding the lock. One statement
  /// always reads one snapshot, so it needs no explicit transaction.
  func query<Result>(_ body: (SQLiteConnection) throws -> Result) throws -> Result {
    try lock.read { _ in try body(connection) }
  }

  /// Runs `body` in a read transaction, so everything it reads comes from one
  /// snapshot. Nested reads join the outer transaction.
  func read<Result>(_ body: (SQLiteConnection) throws -> Result) throws -> Result {
    try lock.read { outermost in
      guard outermost else { return try body(connection) }
      return try connection.transaction(
        "BEGIN DEFERRED", purposes: ("begin a read transaction", "end a read transaction")
      ) { try body(connection) }
    }
  }

  /// Runs `body` in a write transaction (`BEGIN IMMEDIATE`), committing when
  /// it returns and rolling back when it throws; then, once committed and
  /// still holding the lock, `committed` with what `body` returned.
  func write<Result>(
    _ body: (SQLiteConnection) throws -> Result, committed: (Result) -> Void = { _ in }
  ) throws -> Result {
    try lock.append {
      guard !options.readOnly, !connection.isReadOnly else {
        throw EventLogError.readOnly(path: path)
      }
      let result = try connection.transaction(
        "BEGIN IMMEDIATE", purposes: ("begin the append transaction", "commit the append")
      ) { try body(connection) }
      committed(result)
      return result
    }
  }
}
