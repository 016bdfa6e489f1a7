import EventLog
import PostgresEventLog

extension PartnerSyncLog {
  /// Opens (or, with `create`, creates) the log that `url` names: a PostgreSQL log for a
  /// `postgresql://user@host:port/dbname?log=NAME` URL (see `PostgresLocation`; many logs live in
  /// one database, each with its own positions and hash chain), else the SQLite log at the path
  /// `url`, exactly as ``open(path:create:readOnly:rules:wait:)-99n9u`` opens it.
  ///
  /// A write waits up to `wait` for another writer; past it, it fails with
  /// ``PartnerSyncError/Code/busy``, appending nothing. A PostgreSQL server that cannot be reached
  /// within `wait` (at least 2 s), or a connection lost mid-write, fails with
  /// ``PartnerSyncError/Code/unavailable``: the write was rolled back and may be retried.
  ///
  /// A streaming replica (a hot standby) serves reads: open it with `readOnly`. There, a read
  /// that names a position waits up to `wait` until the replica has replayed it (see
  /// ``waitUntil(position:timeout:)-1t0sw``), for read-your-writes.
  /// - Throws: ``PartnerSyncError`` with code `logNotFound` when the log (or its database) does
  ///   not exist and `create` is off, `unusableLog` when the URL is malformed or names something
  ///   that is not a PartnerSync log, `unavailable` when the server cannot be reached, `readOnly`
  ///   when the server is a standby and `readOnly` is off.
  public static func open(
    url: String, create: Bool = false, readOnly: Bool = false, rules: RuleSet = .standard,
    wait: Duration = .seconds(5)
  ) throws(PartnerSyncError) -> PartnerSyncLog {
    guard PostgresLocation.isURL(url) else {
      return try open(path: url, create: create, readOnly: readOnly, rules: rules, wait: wait)
    }
    return try open(postgresURL: url, create: create, readOnly: readOnly, rules: rules, wait: wait)
  }

  /// Opens the PostgreSQL log that `url` names, as ``open(url:create:readOnly:rules:wait:)-7wz0j``
  /// does; with `createWithFirstAppend`, a missing log is created by its first write only.
  static func open(
    postgresURL url: String, create: Bool, readOnly: Bool, rules: RuleSet, wait: Duration,
    createWithFirstAppend: Bool = false
  ) throws(PartnerSyncError) -> PartnerSyncLog {
    let location: PostgresLocation
    do {
      location = try PostgresLocation(url: url)
    } catch {
      throw PartnerSyncError(.unusableLog, error.message)
    }
    let log = try PartnerSyncError.wrap {
      let options = PostgresEventLog.Options(
        create: create && !readOnly, readOnly: readOnly,
        lockTimeoutMilliseconds: options(wait: wait).busyTimeoutMilliseconds,
        createWithFirstAppend: createWithFirstAppend)
      return PartnerSyncLog(store: try PostgresEventLog(location: location, options: options), rules: rules)
    }
    if !readOnly { try log.fillOutboxIfNeeded() }
    return log
  }
}
