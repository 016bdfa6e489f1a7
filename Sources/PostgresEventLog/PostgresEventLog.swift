import EventLog
import Foundation

/// An event log stored in PostgreSQL, shared by processes on many machines. It keeps
/// ``SQLiteEventLog``'s contract.
///
/// ```swift
/// let location = try PostgresLocation(url: "postgresql://app@db.example.com/partnersync?log=acme")
/// let log = try PostgresEventLog(location: location, options: .init(create: true))
/// ```
///
/// Appends from any number of connections serialise on a transaction-scoped advisory lock of the
/// log, taken before the last position is read, so positions follow the order of the commits and
/// the chain stays unbroken; holding no session state, the log works through PgBouncer in
/// transaction mode. One instance may be shared between threads: every call is serialised on
/// its one connection, which is opened again after it was lost.
public final class PostgresEventLog: EventLogWriter, @unchecked Sendable {
  // @unchecked Sendable: the connection is used only while holding `lock`.

  /// How to open the log.
  public struct Options: Sendable {
    /// Create the log (its schema) when it does not exist. Without it, opening a missing log
    /// throws ``EventLogError/fileNotFound(path:)`` and creates nothing.
    public var create: Bool = false

    /// Refuse appends with ``EventLogError/readOnly(path:)``; reads run in read-only transactions.
    public var readOnly: Bool = false

    /// How long an append waits for another writer's lock before throwing
    /// ``EventLogError/busy(path:)``; also the connection timeout (at least 2 s) unless the URL
    /// sets `connect_timeout`.
    public var lockTimeoutMilliseconds: Int32 = 5000

    /// With `create`, a log that does not exist is created in the transaction of the first
    /// append, not when it is opened: an append that fails leaves no log behind. Until then
    /// reads see it empty.
    public var createWithFirstAppend: Bool = false

    /// Creates options; the defaults open an existing log read-write with a five-second wait.
    public init(
      create: Bool = false, readOnly: Bool = false, lockTimeoutMilliseconds: Int32 = 5000,
      createWithFirstAppend: Bool = false
    ) {
      self.create = create
      self.readOnly = readOnly
      self.lockTimeoutMilliseconds = lockTimeoutMilliseconds
      self.createWithFirstAppend = createWithFirstAppend
    }
  }

  /// Where the log lives.
  public let location: PostgresLocation

  /// The options the log was opened with.
  public let options: Options

  /// Whether the server was a hot standby (a streaming replica, in recovery) when the log was
  /// opened: it serves reads only, at its point of replay, which may lag the primary.
  public let isStandby: Bool

  let lock = LogLock()
  let connection: PostgresConnection
  /// The schema's quoted name, to put into statements.
  let schema: String
  /// The open cursors of nested reads, to name the next one.
  var cursorDepth = 0
  /// Whether the log is still to be created by the first append (`createWithFirstAppend`).
  private var creationPending: Bool
  /// The log's last event (position and hash) as this log's last append left it.
  var lastSeen: (position: Int64, hash: [UInt8])?
  /// How many appends in a row found the log as the append before had left it (no other writer
  /// came between).
  var quietAppends = 0
  /// How many such appends make the next one guess that `lastSeen` is still the last event: 1,
  /// doubled by each guess that fails (up to 64) and halved by each that holds, so that writers
  /// that keep coming between each other's appends seldom guess.
  var quietAppendsToGuess = 1
  /// The versions of streams at `lastSeen`: those that this log's appends read or wrote while no
  /// other writer came between them (at most 65,536).
  var knownVersions: [String: Int64] = [:]
  /// The object id of the log's `events` table, as the first append read it: a guess checks that
  /// the table is still that one (a log removed and created again has another).
  var eventsTable: String?

  /// Events per `COPY` of an append: a large batch is copied a chunk at a time while it is
  /// produced.
  static let chunkSize = 4096

  /// Opens (or, with `options.create`, creates) the log at `location`.
  ///
  /// - Throws: ``EventLogError/fileNotFound(path:)`` when the database or the log does not exist
  ///   (and `create` is off), ``EventLogError/unavailable(location:reason:)`` when the server
  ///   cannot be reached, ``EventLogError/notAnEventLog(path:)`` when the log's schema holds
  ///   something else, ``EventLogError/newerSchema(path:found:supported:)`` when a newer program
  ///   wrote it, ``EventLogError/standby(location:)`` when the server is a standby and `readOnly`
  ///   is off.
  public init(location: PostgresLocation, options: Options = .init()) throws {
    var conninfo = location.connectionURL
    if !conninfo.contains("connect_timeout=") {
      let seconds = max(2, (Int(options.lockTimeoutMilliseconds) + 999) / 1000)
      conninfo += (conninfo.contains("?") ? "&" : "?") + "connect_timeout=\(seconds)"
    }
    if !conninfo.contains("application_name=") { conninfo += "&application_name=partnersync" }
    self.location = location
    self.options = options
    schema = PostgresSchema.quoted(location)
    connection = try PostgresConnection(conninfo: conninfo, location: location.description)
    isStandby =
      try connection.optionalInteger("SELECT pg_is_in_recovery()::int::int8", purpose: "ask whether it is a standby")
      == 1
    guard !isStandby || options.readOnly else { throw EventLogError.standby(location: location.description) }
    creationPending = try PostgresSchema.prepare(
      connection, location, create: options.create, readOnly: options.readOnly, deferred: options.createWithFirstAppend)
  }

  /// Opens the log named by a `postgresql://` URL; see ``PostgresLocation``.
  public convenience init(url: String, options: Options = .init()) throws {
    let location: PostgresLocation
    do {
      location = try PostgresLocation(url: url)
    } catch {
      throw EventLogError.misuse(error.message)
    }
    try self.init(location: location, options: options)
  }

  /// Runs `body` while holding the lock, in a read transaction of one snapshot unless `snapshot`
  /// is false (a single statement's read); nested reads join the outer one.
  ///
  /// A connection that the server ended while it was idle (a restart, a failover) is found lost
  /// only by its next statement: a read whose first statement fails so is made once more, on a
  /// new connection, as nothing of it has reached `body` yet.
  func read<Result>(snapshot: Bool = true, _ body: (PostgresConnection) throws -> Result) throws -> Result {
    try lock.read { outermost in
      guard outermost else { return try body(connection) }
      // (Not when the connection was known lost: then connecting again failed already.)
      let (answered, wasConnected) = (connection.answered, connection.isConnected)
      do {
        return try readOnce(snapshot: snapshot, body)
      } catch EventLogError.unavailable
        where wasConnected && connection.answered == answered && !connection.isConnected
      {
        return try readOnce(snapshot: snapshot, body)
      }
    }
  }

  /// One try of the outermost ``read(snapshot:_:)``, the lock held.
  private func readOnce<Result>(snapshot: Bool, _ body: (PostgresConnection) throws -> Result) throws -> Result {
    try connection.reconnectIfLost()
    if creationPending { return try readBeforeCreation(body) }
    // A read's waits for a lock (a table that maintenance holds) give up after the log's lock
    // timeout, as a write's do: a single statement's in the transaction `query` makes for it.
    guard snapshot else {
      connection.readLockTimeout = options.lockTimeoutMilliseconds
      defer { connection.readLockTimeout = nil }
      return try body(connection)
    }
    return try connection.transaction(
      "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; \(lockTimeout)", purpose: "read the log"
    ) { try body(connection) }
  }

  /// Runs `body` in a write transaction that holds the log's advisory lock, committing when it
  /// returns (unless `body` committed) and rolling back when it throws; a log still to be created
  /// is created in it.
  func write<Result>(_ body: (PostgresConnection) throws -> Result) throws -> Result {
    try write(reading: nil) { connection, _ in try body(connection) }
  }

  /// ``write(_:)``, running the statements of `reads` (without parameters) right after the
  /// lock is taken, in the same round-trip, and handing their results (rows as text) to `body`.
  func write<Result>(
    reading reads: String?, _ body: (PostgresConnection, [PostgresResult]) throws -> Result
  ) throws -> Result {
    try lock.append {
      guard !options.readOnly else { throw EventLogError.readOnly(path: location.description) }
      try connection.reconnectIfLost()
      // The transaction begins, sets its lock timeout and takes the log's lock in one round-trip;
      // a log still to be created is created before its lock is taken, as every creation does.
      let locked = [lockLog] + (reads.map { [$0] } ?? [])
      var results: [PostgresResult] = []
      let result = try connection.transaction("", purpose: "append to the log") {
        if creationPending {
          try connection.execute(begin, purpose: "begin a transaction to append to the log")
          _ = try PostgresSchema.create(connection, location)
          results = try connection.executeAll(locked.joined(separator: "; "), purpose: "lock the log for an append")
        } else {
          results = try connection.executeAll(([begin] + locked).joined(separator: "; "), purpose: "append to the log")
        }
        // The results of `reads` only.
        return try body(connection, Array(results.suffix(results.count - (creationPending ? 1 : 3))))
      }
      creationPending = false
      return result
    }
  }

  /// The statement that sets the transaction's lock timeout.
  var lockTimeout: String { "SET LOCAL lock_timeout = \(max(1, options.lockTimeoutMilliseconds))" }

  /// The statements that begin an append's transaction and set its lock timeout.
  var begin: String { "BEGIN; \(lockTimeout)" }

  /// The statement that takes the log's lock, until the transaction ends (the schema's name is of
  /// letters, digits and `_` only).
  var lockLog: String {
    "SELECT pg_advisory_xact_lock(\(PostgresSchema.lockClass), hashtext('\(location.schema)'))"
  }

  /// Runs `body`, a read of a log still to be created, in a transaction that makes the log's
  /// empty schema and is rolled back: the log reads as empty, or as another process has
  /// created it meanwhile (then it is created no more).
  private func readBeforeCreation<Result>(_ body: (PostgresConnection) throws -> Result) throws -> Result {
    defer { connection.rollBack() }
    try connection.execute(begin, purpose: "read the log")
    creationPending = try PostgresSchema.create(connection, location)
    return try body(connection)
  }

  /// Streams the rows of `select` (whose first columns are position, stream, type, actor, data,
  /// then version, time and hash as `columns` ask) through a cursor, a page at a time, in one
  /// snapshot; nested reads may run between pages.
  func scan(
    _ condition: String, _ parameters: [PostgresParameter], purpose: String,
    columns: StoredEventBytes.Columns = .all, _ body: (StoredEventBytes) throws -> Bool
  ) throws {
    let (select, version, time, hash) = columns.selectList
    try read { connection in
      cursorDepth += 1
      defer { cursorDepth -= 1 }
      let cursor = "partnersync_scan_\(cursorDepth)"
      try connection.query(
        "DECLARE \(cursor) NO SCROLL CURSOR FOR \(select) FROM \(schema).events \(condition)", parameters,
        purpose: purpose)
      defer { try? connection.execute("CLOSE \(cursor)", purpose: "close a cursor") }
      while true {
        let page = try connection.query("FETCH FORWARD 1000 FROM \(cursor)", purpose: purpose)
        for row in 0..<page.rowCount {
          let event = StoredEventBytes(
            position: page.int64(row, 0), version: version.map { page.int64(row, $0) } ?? 0,
            time: time.map { page.int64(row, $0) } ?? 0, stream: page.bytes(row, 1), type: page.bytes(row, 2),
            actor: page.bytes(row, 3), data: page.bytes(row, 4),
            hash: hash.map { page.bytes(row, $0) } ?? UnsafeBufferPointer(start: nil, count: 0))
          guard try body(event) else { return }
        }
        if page.rowCount < 1000 { return }
      }
    }
  }
}

extension PostgresEventLog {
  /// Removes the log at `location` with everything in it (its schema), for tests: the events'
  /// triggers refuse deleting them one by one, not dropping the whole log.
  package static func remove(at location: PostgresLocation) throws {
    let connection = try PostgresConnection(conninfo: location.connectionURL, location: location.description)
    try connection.execute(
      "DROP SCHEMA IF EXISTS \(PostgresSchema.quoted(location)) CASCADE", purpose: "remove the log")
  }
}
