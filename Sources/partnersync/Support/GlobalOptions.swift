import ArgumentParser
import Foundation
import PartnerSync

/// Options every command shares.
struct GlobalOptions: ParsableArguments {
  @Option(
    name: .long,
    help: ArgumentHelp(
      "The SQLite log (default: $PARTNERSYNC_DB, else partnersync.sqlite).", valueName: "path"))
  var db: String?

  @Flag(name: [.customShort("q"), .long], help: "Print only data and errors: no summaries, no progress.")
  var quiet = false

  /// The log's path after defaults.
  var path: String {
    if let db { return db }
    if let env = ProcessInfo.processInfo.environment["PARTNERSYNC_DB"], !env.isEmpty { return env }
    return "partnersync.sqlite"
  }

  /// Opens the existing log (exit 66 when it does not exist).
  func openLog(readOnly: Bool = true) throws -> PartnerSyncLog {
    do {
      return try PartnerSyncLog.open(path: path, create: false, readOnly: readOnly)
    } catch {
      try fail(error, path: path)
    }
  }
}

/// How data is printed.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
  case text
  case json
}

/// The `--format` option of every command that prints data.
struct FormatOptions: ParsableArguments {
  @Option(name: .long, help: "Output format: text (a readable table) or json.")
  var format: OutputFormat = .text
}
