/// The event log's SQLite schema: identification, history and upgrade.
///
/// A file is an event log when its `application_id` is ``applicationID``.
/// `user_version` is the number of ``migrations`` applied. The table, column,
/// trigger and view names are part of the file format (the CLI documents
/// them), so they never change once released; new versions only add steps.
enum SQLiteSchema {
  /// The `application_id` of an event log file: 0x50534E43 ("PSNC").
  static let applicationID: Int64 = 1_347_636_803

  /// The schema's history, oldest first: a short description of each step, for error messages,
  /// and its SQL; step `i` produces version `i + 1`.
  ///
  /// There is deliberately no `events(stream, time_us)` index: it made
  /// importing a million events in one batch more than twice as slow, while
  /// the query by time (`lastPosition(inStream:beforeFirstAfter:)`) reads one
  /// stream's rows through the `UNIQUE (stream, version)` index anyway.
  static let migrations: [(name: String, sql: String)] = [
    (
      "create the events table, its append-only triggers and the readable view",
      """
      CREATE TABLE events (
        position INTEGER PRIMARY KEY,
        stream   TEXT    NOT NULL,
        version  INTEGER NOT NULL,
        type     TEXT    NOT NULL,
        actor    TEXT    NOT NULL,
        time_us  INTEGER NOT NULL,
        data     TEXT    NOT NULL,
        hash     BLOB    NOT NULL,
        UNIQUE (stream, version)
      );
      CREATE TRIGGER events_refuse_update BEFORE UPDATE ON events
      BEGIN SELECT RAISE(ABORT, 'events are append-only: UPDATE refused'); END;
      CREATE TRIGGER events_refuse_delete BEFORE DELETE ON events
      BEGIN SELECT RAISE(ABORT, 'events are append-only: DELETE refused'); END;
      CREATE VIEW events_readable AS
        SELECT position, stream, version, type, actor,
               strftime('%Y-%m-%dT%H:%M:%fZ', time_us / 1000000.0, 'unixepoch') AS time,
               data, hex(hash) AS hash
        FROM events;
      """
    ),
    (
      "add the outbox table (the messages events leave, derived from them)",
      // A log that already has events gets a row in `outbox_filling`: its outbox is empty until
      // the program that knows what the events imply fills it (see `rebuildOutbox`).
      """
      CREATE TABLE outbox (
        position  INTEGER NOT NULL,
        seq       INTEGER NOT NULL,
        recipient TEXT    NOT NULL,
        data      TEXT    NOT NULL,
        PRIMARY KEY (position, seq)
      ) WITHOUT ROWID;
      CREATE INDEX outbox_by_recipient ON outbox (recipient, position, seq);
      CREATE TABLE outbox_filling (through INTEGER NOT NULL);
      INSERT INTO outbox_filling SELECT max(position) FROM events HAVING count(*) > 0;
      """
    ),
  ]

  /// The first schema version with the outbox.
  static let outboxVersion = 2

  /// The schema version this program writes and understands.
  static var supportedVersion: Int { migrations.count }

  /// Checks that the connection's database is an event log (or empty) and
  /// brings its schema up to date; `openedReadOnly` tells whether the caller
  /// asked for a read-only connection.
  ///
  /// Reading the header is the first access to the file, so a file that is
  /// not SQLite fails here with `SQLITE_NOTADB`, which maps to
  /// ``EventLogError/notAnEventLog(path:)``.
  static func prepare(_ connection: SQLiteConnection, openedReadOnly: Bool) throws {
    let path = connection.path
    let applicationID = try connection.integer(
      "PRAGMA application_id", purpose: "read the application id")
    let userVersion = try connection.integer(
      "PRAGMA user_version", purpose: "read the schema version")
    let objectCount = try connection.integer(
      "SELECT count(*) FROM sqlite_master",
      purpose: "list the database's tables"
    )
    let isEmpty = applicationID == 0 && userVersion == 0 && objectCount == 0
    guard applicationID == Self.applicationID || isEmpty else {
      throw EventLogError.notAnEventLog(path: path)
    }
    guard userVersion <= supportedVersion else {
      throw EventLogError.newerSchema(
        path: path, found: Int(userVersion), supported: supportedVersion)
    }
    connection.schemaVersion = Int(userVersion)
    guard userVersion < supportedVersion else { return }
    guard !connection.isReadOnly else {
      // An older log is read as it is (without an outbox); the first write upgrades it. An empty
      // database (a file of 0 bytes) opened for reading holds no log; one opened for writing that
      // SQLite found write-protected cannot be made one.
      guard userVersion > 0 else {
        throw isEmpty && openedReadOnly ? EventLogError.fileNotFound(path: path) : EventLogError.readOnly(path: path)
      }
      return
    }
    if isEmpty {
      // WAL lets readers work while a writer appends. The mode is stored in
      // the file, so it is set once, when the log is created.
      try connection.execute("PRAGMA journal_mode = WAL", purpose: "switch the new log to WAL mode")
    }
    // Each step re-reads `user_version` inside its write transaction, so two
    // processes creating the same log at once apply each step once.
    for (index, migration) in migrations.enumerated() {
      let target = index + 1
      try connection.transaction(
        "BEGIN IMMEDIATE", purposes: ("begin the schema upgrade", "commit the schema upgrade")
      ) {
        let current = try connection.integer("PRAGMA user_version", purpose: "read the schema version")
        if current < target {
          try connection.execute(migration.sql, purpose: "upgrade the schema (\(migration.name))")
          try connection.execute(
            "PRAGMA application_id = \(Self.applicationID); PRAGMA user_version = \(target)",
            purpose: "record the schema version"
          )
        }
        connection.schemaVersion = max(connection.schemaVersion, target)
      }
    }
  }
}
