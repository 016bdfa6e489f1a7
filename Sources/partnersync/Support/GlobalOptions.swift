import ArgumentParser
import Foundation
import PartnerSync
import PostgresEventLog

/// Options every command shares.
struct GlobalOptions: ParsableArguments {
  @Option(
    help: ArgumentHelp(
      "The log: a SQLite file, or postgresql://user@host:port/dbname?log=NAME (default: $PARTNERSYNC_DB, else partnersync.sqlite).",
      valueName: "path-or-url"))
  var db: String?

  @Flag(name: [.customShort("q"), .long], help: "Print only data and errors: no summaries, no progress.")
  var quiet = false

  // `.unconditional`: a negative value ("-1") is read as the value and refused by `validate`,
  // not taken for an option.
  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Seconds a write waits for another writer to finish, and a read on a replica for a position it names (--at, --after, --min-position) to be replayed, before giving up with exit 75.",
      valueName: "seconds"))
  var wait: Double = 5

  @Option(
    name: .customLong("min-position"), parsing: .unconditional,
    help: ArgumentHelp(
      "Wait (up to --wait seconds, else exit 75) until the log holds this position before reading: read-your-writes on a replica.",
      valueName: "position"))
  var minPosition: Int64?

  func validate() throws {
    guard wait >= 0, wait <= 86_400 else {
      throw ValidationError("--wait takes seconds from 0 to 86400, not \(wait)")
    }
    if let minPosition, minPosition < 1 {
      throw ValidationError("--min-position takes a log position from 1, not \(minPosition)")
    }
    if isURL {
      do {
        _ = try PostgresLocation(url: path)
      } catch {
        throw ValidationError(error.message)
      }
    }
  }

  /// Whether the log is a PostgreSQL log named by a URL, not a SQLite file.
  var isURL: Bool { PostgresLocation.isURL(path) }

  /// The log's name in messages: its path, or its URL without a password.
  var logName: String {
    guard isURL, let location = try? PostgresLocation(url: path) else { return path }
    return location.description
  }

  /// How long a write waits for another writer (`--wait`).
  var waitDuration: Duration { .milliseconds(Int64(wait * 1000)) }

  /// The log's path after defaults.
  var path: String {
    if let db { return db }
    if let env = ProcessInfo.processInfo.environment["PARTNERSYNC_DB"], !env.isEmpty { return env }
    return "partnersync.sqlite"
  }

  /// Opens the log, with `--wait`; the existing log read-only unless `create` or `writable` (exit
  /// 66 when it does not exist and `create` is off). With `--min-position`, it then waits until
  /// the log holds that position (exit 75 past `--wait`).
  func openLog(create: Bool = false, writable: Bool = false) throws -> PartnerSyncLog {
    let log: PartnerSyncLog
    do {
      log = try PartnerSyncLog.open(
        url: path, create: create, readOnly: !create && !writable, wait: waitDuration)
    } catch {
      if create && !isURL { throw error }
      throw fail(error, path: path)
    }
    if let minPosition { try log.waitUntil(position: minPosition, timeout: waitDuration) }
    return log
  }
}

/// How data is printed.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
  case text, json
}

/// The `--format` option of every command that prints data.
struct FormatOptions: ParsableArguments {
  @Option(help: "Output format: text (a readable table) or json.")
  var format: OutputFormat = .text
}
