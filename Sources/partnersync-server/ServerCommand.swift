import ArgumentParser
import Foundation
import Logging
import Metrics
import PartnerSync
import PartnerSyncServer
import PostgresEventLog
import Prometheus

@main
struct ServerCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "partnersync-server",
    abstract: "Serve a PartnerSync log over HTTP: each partner, by its API key, reaches its own version.",
    discussion: """
      Examples:
        partnersync-server keys add bolt --db team.sqlite
        partnersync-server serve --db team.sqlite --port 8080
      """,
    subcommands: [Serve.self, Keys.self],
    defaultSubcommand: Serve.self)
}

/// The log, shared by every subcommand, and where the server keeps its own files.
struct LogOption: ParsableArguments {
  @Option(
    help: ArgumentHelp(
      "The log: a SQLite file, or postgresql://user@host:port/dbname?log=NAME (default: $PARTNERSYNC_DB or partnersync.sqlite).",
      valueName: "path-or-url"))
  var db: String?

  @Option(
    help: ArgumentHelp(
      "The path prefix of the server's API keys (PATH.keys) and Idempotency-Keys (PATH.idempotency); default: the SQLite log's path. A PostgreSQL log needs it.",
      valueName: "path"))
  var state: String?

  var path: String { db ?? ProcessInfo.processInfo.environment["PARTNERSYNC_DB"] ?? "partnersync.sqlite" }

  /// The state path, `--state` or the SQLite log's path, once it is found usable: a PostgreSQL
  /// log needs a well-formed URL and `--state`, whose folder must exist (and be writable, when
  /// `writing`). Otherwise one line on standard error and exit 64 (the options) or 66 (the
  /// folder); nothing is created.
  func statePath(writing: Bool) throws -> String {
    let isURL = PostgresLocation.isURL(path)
    if isURL {
      do {
        _ = try PostgresLocation(url: path)
      } catch {
        throw failure(error.message, 64)
      }
    }
    guard let state else {
      guard !isURL else {
        throw failure(
          "a PostgreSQL log keeps no files of the server: give --state PATH, where the server keeps its keys (PATH.keys) and Idempotency-Keys (PATH.idempotency), the same for serve and keys",
          64)
      }
      return path
    }
    guard !state.isEmpty, !state.hasSuffix("/") else {
      throw failure(
        "--state takes a path prefix such as /var/lib/partnersync/acme (for acme.keys and acme.idempotency), not '\(state)'",
        64)
    }
    let folder = URL(fileURLWithPath: state).deletingLastPathComponent().path
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
      throw failure(
        "the folder \(folder) of --state \(state) does not exist; create it (mkdir -p \(folder)) or give another path",
        66)
    }
    guard !writing || access(folder, W_OK) == 0 else {
      throw failure(
        "the folder \(folder) of --state \(state) is not writable; give a folder the server may write to", 66)
    }
    return state
  }
}

/// Writes `message` as one line on standard error; the exit code to throw.
func failure(_ message: String, _ code: Int32) -> ExitCode {
  FileHandle.standardError.write(Data("error: \(message)\n".utf8))
  return ExitCode(code)
}

struct Serve: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Serve the log until SIGTERM or SIGINT, then shut down gracefully.")

  @OptionGroup var log: LogOption

  @Option(help: "The address to bind.")
  var host = "127.0.0.1"

  @Option(help: "The port to bind; 0 picks a free one.")
  var port = 8080

  @Option(help: ArgumentHelp("Write the bound port to this file once listening.", valueName: "path"))
  var portFile: String?

  @Option(help: ArgumentHelp("The largest request body, in bytes.", valueName: "bytes"))
  var maxBody = ServerLimits.default.maximumBody

  @Option(help: ArgumentHelp("Seconds a client may take to send a request body.", valueName: "seconds"))
  var bodyTimeout = 10

  @Option(
    help: ArgumentHelp(
      "Seconds between the comments an open notification stream sends, new notifications or not (a client gone is noticed at the next one).",
      valueName: "seconds"))
  var streamHeartbeat = 15.0

  @Option(help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error, critical.", valueName: "level"))
  var logLevel = "info"

  func validate() throws {
    guard (0...65535).contains(port) else { throw ValidationError("--port takes 0…65535, not \(port)") }
    guard maxBody > 0 else { throw ValidationError("--max-body takes a positive number of bytes") }
    guard bodyTimeout > 0 else { throw ValidationError("--body-timeout takes a positive number of seconds") }
    guard streamHeartbeat >= 0.01, streamHeartbeat <= 86_400 else {
      throw ValidationError("--stream-heartbeat takes 0.01…86400 seconds, not \(streamHeartbeat)")
    }
    guard Logger.Level(rawValue: logLevel) != nil else {
      throw ValidationError("--log-level \(logLevel) is not a level")
    }
  }

  func run() async throws {
    let level = Logger.Level(rawValue: logLevel) ?? .info
    LoggingSystem.bootstrap { label in
      var handler = JSONLogHandler(label: label)
      handler.logLevel = level
      return handler
    }
    let registry = PrometheusCollectorRegistry()
    MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    let logger = Logger(label: "partnersync-server")
    var limits = ServerLimits.default
    limits.maximumBody = maxBody
    limits.bodyTimeout = .seconds(bodyTimeout)
    limits.streamHeartbeat = .milliseconds(Int64((streamHeartbeat * 1000).rounded()))
    let statePath = try log.statePath(writing: true)
    let server: PartnerSyncServer
    do throws(PartnerSyncError) {
      server = try await PartnerSyncServer(
        configuration: .init(
          logPath: log.path, statePath: statePath, host: host, port: port, portFile: portFile, limits: limits,
          fault: ProcessInfo.processInfo.environment["PARTNERSYNC_SERVER_FAULT"].flatMap(ServerFault.init)),
        logger: logger, registry: registry)
    } catch {
      if error.code == .logNotFound, PostgresLocation.isURL(log.path),
        let location = try? PostgresLocation(url: log.path)
      {
        // The location's description hides the password.
        throw failure(
          "the database of \(location) does not exist; create it (createdb), or point --db or PARTNERSYNC_DB at an existing database",
          66)
      }
      let code: Int32 =
        switch error.code {
        case .logNotFound, .unusableLog, .readOnly: 66
        case .busy, .unavailable: 75
        default: 70
        }
      throw failure(error.description, code)
    }
    try await server.run()
  }
}

struct Keys: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Manage the API keys (stored as SHA-256 hashes in LOG.keys, or STATE.keys with --state).",
    subcommands: [Add.self, List.self, Revoke.self])

  struct Add: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Add a key for a partner and print it: it is shown this once, only its hash is kept.")
    @OptionGroup var log: LogOption
    @Argument(help: "The partner the key acts as.") var partner: String

    func run() throws {
      let statePath = try log.statePath(writing: true)
      let key = try keyStore { () throws(KeyStoreError) in try KeyStore(logPath: statePath).add(partner: partner) }
      print(key)
      FileHandle.standardError.write(Data("added a key for \(partner); keep it now, it is not shown again\n".utf8))
    }
  }

  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the keys: id, partner, created, state.")
    @OptionGroup var log: LogOption

    func run() throws {
      let statePath = try log.statePath(writing: false)
      for entry in try keyStore({ () throws(KeyStoreError) in try KeyStore(logPath: statePath).entries() }) {
        print([entry.id, entry.partner, entry.created, entry.revoked ? "revoked" : "active"].joined(separator: "\t"))
      }
    }
  }

  struct Revoke: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Revoke a key by its id (or the key itself): a running server refuses it at once.")
    @OptionGroup var log: LogOption
    @Argument(help: "The key's id, as keys list shows it.") var id: String

    func run() throws {
      let statePath = try log.statePath(writing: true)
      let entry = try keyStore { () throws(KeyStoreError) in try KeyStore(logPath: statePath).revoke(id) }
      FileHandle.standardError.write(Data("revoked key \(entry.id) of \(entry.partner)\n".utf8))
    }
  }
}

/// Runs a key store call; its error is one line on standard error and exit 65 (bad data) or 64.
private func keyStore<T>(_ body: () throws(KeyStoreError) -> T) throws -> T {
  do throws(KeyStoreError) {
    return try body()
  } catch {
    throw failure(error.message, 65)
  }
}
