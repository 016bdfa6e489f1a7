import EventLog
import Foundation

/// The schema of one PostgreSQL event log: a PostgreSQL schema `partnersync_NAME` per log, with
/// the same tables as the SQLite file, its texts stored as `bytea` (their UTF-8 bytes: `text`
/// cannot hold a NUL, and `bytea` sorts by bytes as SQLite's names do).
///
/// The names are part of the format (operators read them), so they never change once released;
/// new versions only add steps.
enum PostgresSchema {
  /// The value of `log_info.application` in every PartnerSync log.
  static let application = "partnersync"

  /// The key space of the log's advisory locks (`pg_advisory_xact_lock(classid, objid)`):
  /// "PSNC", as the SQLite file's application id.
  static let lockClass: Int32 = 1_347_636_803

  /// The schema's history, oldest first: step `i` produces version `i + 1`. `%s` stands for the
  /// schema's quoted name.
  static let migrations: [String] = [
    """
    CREATE TABLE %s.log_info (application text NOT NULL, schema_version integer NOT NULL);
    CREATE TABLE %s.events (
      position bigint PRIMARY KEY,
      stream   bytea  NOT NULL,
      version  bigint NOT NULL,
      type     bytea  NOT NULL,
      actor    bytea  NOT NULL,
      time_us  bigint NOT NULL,
      data     bytea  NOT NULL,
      hash     bytea  NOT NULL,
      UNIQUE (stream, version)
    );
    CREATE FUNCTION %s.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'events are append-only: % refused', TG_OP USING ERRCODE = 'restrict_violation';
    END $$;
    CREATE TRIGGER events_refuse_update_delete BEFORE UPDATE OR DELETE ON %s.events
      FOR EACH ROW EXECUTE FUNCTION %s.refuse_change();
    CREATE TRIGGER events_refuse_truncate BEFORE TRUNCATE ON %s.events
      FOR EACH STATEMENT EXECUTE FUNCTION %s.refuse_change();
    CREATE VIEW %s.events_readable AS
      SELECT position, convert_from(stream, 'UTF8') AS stream, version, convert_from(type, 'UTF8') AS type,
             convert_from(actor, 'UTF8') AS actor, to_timestamp(time_us / 1000000.0) AS time,
             convert_from(data, 'UTF8') AS data, encode(hash, 'hex') AS hash
      FROM %s.events;
    CREATE TABLE %s.outbox (
      position  bigint NOT NULL,
      seq       bigint NOT NULL,
      recipient bytea  NOT NULL,
      data      bytea  NOT NULL,
      PRIMARY KEY (position, seq)
    );
    CREATE INDEX outbox_by_recipient ON %s.outbox (recipient, position, seq);
    CREATE TABLE %s.outbox_filling (through bigint NOT NULL);
    INSERT INTO %s.log_info VALUES ('partnersync', 0);
    """
  ]

  /// The schema version this program writes and understands.
  static var supportedVersion: Int { migrations.count }

  /// The schema's quoted name.
  static func quoted(_ location: PostgresLocation) -> String { "\"\(location.schema)\"" }

  /// Checks that the log exists (creating it when `create`) and is a PartnerSync log this program
  /// can use, bringing its schema up to date. With `deferred`, a missing log is not created:
  /// the result is then `true`, and ``create(_:_:)`` makes it in the transaction of the first
  /// append.
  static func prepare(
    _ connection: PostgresConnection, _ location: PostgresLocation, create: Bool, readOnly: Bool,
    deferred: Bool = false
  ) throws -> Bool {
    let found = try version(connection, location)
    if let found, found >= supportedVersion {
      guard found == supportedVersion else {
        throw EventLogError.newerSchema(path: location.description, found: Int(found), supported: supportedVersion)
      }
      return false
    }
    guard create, !readOnly else {
      if found == nil { throw EventLogError.fileNotFound(path: location.description) }
      throw EventLogError.readOnly(path: location.description)
    }
    if found == nil && deferred { return true }
    try connection.transaction("BEGIN", purpose: "create the log") { _ = try Self.create(connection, location) }
    return false
  }

  /// The log's schema version, or nil when its schema does not exist.
  private static func version(_ connection: PostgresConnection, _ location: PostgresLocation) throws -> Int64? {
    guard
      try connection.optionalInteger(
        "SELECT 1::int8 FROM pg_namespace WHERE nspname = $1", [.text(location.schema)], purpose: "look the log up")
        != nil
    else { return nil }
    guard
      try connection.optionalInteger(
        "SELECT 1::int8 FROM pg_tables WHERE schemaname = $1 AND tablename = 'log_info'",
        [.text(location.schema)], purpose: "look the log up") != nil,
      let found = try connection.optionalInteger(
        "SELECT schema_version::int8 FROM \(quoted(location)).log_info WHERE application = $1",
        [.text(application)], purpose: "read the log's schema version")
    else { throw EventLogError.notAnEventLog(path: location.description) }
    return found
  }

  /// Creates the log or brings its schema up to date, inside the open transaction; returns
  /// whether the log was missing. Two processes creating the same log at once: the second waits
  /// for the first's transaction, then finds the log.
  static func create(_ connection: PostgresConnection, _ location: PostgresLocation) throws -> Bool {
    let schema = quoted(location)
    try connection.query(
      "SELECT pg_advisory_xact_lock($1::int4, 0)", [.int64(Int64(lockClass))], purpose: "lock the log's creation")
    let current = try version(connection, location)
    if current == nil {
      try connection.execute("CREATE SCHEMA \(schema)", purpose: "create the log's schema")
    }
    for (index, migration) in migrations.enumerated() where index >= current ?? 0 {
      try connection.execute(
        migration.replacingOccurrences(of: "%s", with: schema), purpose: "create the log's tables (step \(index + 1))")
      try connection.execute(
        "UPDATE \(schema).log_info SET schema_version = \(index + 1)", purpose: "record the schema version")
    }
    return current == nil
  }
}
