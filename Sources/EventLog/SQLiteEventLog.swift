import Foundation

/// An event log stored in a SQLite database file.
///
/// The file format: table `events` (position, stream, version, type, actor,
/// time_us, data, hash), triggers that refuse UPDATE and DELETE, view
/// `events_readable`, `application_id` 0x50534E43 and `user_version` as the
/// schema version. New files use WAL mode, so other processes can read while
/// this one appends.
///
/// ```swift
/// let log = try SQLiteEventLog(path: "events.sqlite", options: .init(create: true))
/// let result = try log.append(
///   [EventRecord(stream: "ticket-1", type: "opened", actor: "ann", time: 0, data: "{}")],
///   expectedVersions: ["ticket-1": 0])
/// ```
///
/// One instance may be shared between threads: every call is serialised
/// (see `lock`). Several instances, also in other processes, may use one file;
/// appends then queue on SQLite's write lock for up to the busy timeout.
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

  /// Serialises every call. A SQLite connection has one transaction state and
  /// its cached statements have one set of bindings each; SQLite's own mutex
  /// only protects single API calls, not a BEGIN…COMMIT sequence or a
  /// bind/step/reset cycle, so two threads would interleave each other's
  /// transactions and clobber each other's bindings. The lock is recursive so
  /// the body of a streaming read may call other reading methods.
  private let lock = NSRecursiveLock()

  /// The connection; used only while holding `lock`.
  let connection: SQLiteConnection

  /// How many reads are in progress (nested reads share one transaction);
  /// used only while holding `lock`.
  private var readDepth = 0

  /// Whether the producer of a streaming append is running: the connection
  /// may then be busy on the append's writer thread, so calls back into the
  /// log are refused. Used only while holding `lock`.
  private var isProducing = false

  /// Opens (or, with `options.create`, creates) the event log at `path`.
  ///
  /// - Throws: ``EventLogError/fileNotFound(path:)`` when the file is missing
  ///   and `create` is off (nothing is created),
  ///   ``EventLogError/notAnEventLog(path:)`` when the file is not an event log,
  ///   ``EventLogError/newerSchema(path:found:supported:)`` when a newer program
  ///   wrote it, ``EventLogError/readOnly(path:)`` when a read-only log would
  ///   need its schema written.
  public init(path: String, options: Options = .init()) throws {
    let existed = FileManager.default.fileExists(atPath: path)
    guard existed || (options.create && !options.readOnly) else {
      throw EventLogError.fileNotFound(path: path)
    }
    self.path = path
    self.options = options
    do {
      connection = try SQLiteEventLog.openConnection(path: path, options: options)
    } catch {
      if !existed, error as? EventLogError != .busy(path: path) {
        SQLiteEventLog.removeFiles(of: path)
      }
      throw error
    }
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
    let connection = try openConnection(path: ":memory:", options: options)
    return SQLiteEventLog(connection: connection, path: ":memory:", options: options)
  }

  private static func openConnection(path: String, options: Options) throws -> SQLiteConnection {
    let connection = try SQLiteConnection(
      path: path, readOnly: options.readOnly, create: options.create)
    connection.setBusyTimeout(milliseconds: options.busyTimeoutMilliseconds)
    try connection.execute(
      "PRAGMA synchronous = \(options.synchronous.rawValue.uppercased())",
      purpose: "set the synchronous mode"
    )
    try SQLiteSchema.prepare(connection)
    return connection
  }

  /// Whether appends are refused: opened read-only, or the file is write-protected.
  public var isReadOnly: Bool {
    withLock { options.readOnly || connection.isReadOnly }
  }

  // MARK: Serialisation and transactions

  /// Runs `body` while holding the lock.
  func withLock<Result>(_ body: () throws -> Result) rethrows -> Result {
    lock.lock()
    defer { lock.unlock() }
    return try body()
  }

  /// Runs `body`, a single statement, while holding the lock. One statement
  /// always reads one snapshot, so it needs no explicit transaction.
  func query<Result>(_ body: (SQLiteConnection) throws -> Result) throws -> Result {
    try withLock {
      try refuseWhileProducing()
      return try body(connection)
    }
  }

  /// Runs `body`, the producer of a streaming append, refusing calls back
  /// into the log meanwhile. Call while holding the lock.
  func producing<Result>(_ body: () throws -> Result) rethrows -> Result {
    isProducing = true
    defer { isProducing = false }
    return try body()
  }

  private func refuseWhileProducing() throws {
    guard !isProducing else {
      throw EventLogError.misuse(
        "the log was called from inside the producer of a streaming append; "
          + "read what the producer needs before the append")
    }
  }

  /// Runs `body` in a read transaction, so everything it reads comes from one
  /// snapshot. Nested reads join the outer transaction.
  func read<Result>(_ body: (SQLiteConnection) throws -> Result) throws -> Result {
    try withLock {
      try refuseWhileProducing()
      let outermost = readDepth == 0
      if outermost {
        try connection.run("BEGIN DEFERRED", purpose: "begin a read transaction")
      }
      readDepth += 1
      defer { readDepth -= 1 }
      let result: Result
      do {
        result = try body(connection)
      } catch {
        if outermost {
          connection.rollbackQuietly()
        }
        throw error
      }
      if outermost {
        try connection.run("COMMIT", purpose: "end a read transaction")
      }
      return result
    }
  }

  /// Runs `body` in a write transaction (`BEGIN IMMEDIATE`), committing when
  /// it returns and rolling back when it throws. Call while holding the lock.
  func write<Result>(_ body: (SQLiteConnection) throws -> Result) throws -> Result {
    try refuseWhileProducing()
    guard readDepth == 0 else {
      throw EventLogError.misuse(
        "append was called from inside a read of the same log; append after the read has returned"
      )
    }
    guard !options.readOnly, !connection.isReadOnly else {
      throw EventLogError.readOnly(path: path)
    }
    try connection.run("BEGIN IMMEDIATE", purpose: "begin the append transaction")
    do {
      let result = try body(connection)
      try connection.run("COMMIT", purpose: "commit the append")
      return result
    } catch {
      connection.rollbackQuietly()
      throw error
    }
  }
}
