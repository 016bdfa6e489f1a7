import ArgumentParser
import PartnerSync

@main
struct PartnerSyncCommand: ParsableCommand {
  @OptionGroup var global: GlobalOptions

  static let configuration = CommandConfiguration(
    commandName: "partnersync",
    abstract: "Replay, inspect and audit partner ticket histories.",
    discussion: """
      PartnerSync keeps every partner action on an outsourced ticket as an immutable event in an
      append-only SQLite log, and shows each partner's version of the ticket and why every entry
      did or did not reach the other side.

      The log is --db PATH, or $PARTNERSYNC_DB, or partnersync.sqlite in the current folder.

      Exit codes: 0 success, 1 verify found damage, 64 wrong usage, 65 bad input data (nothing
      appended), 66 the log or file does not exist or cannot be used, 70 internal error, 75 the
      log stayed busy or changed under the writer (nothing appended; try again).
      """,
    version: PartnerSyncVersion.current,
    subcommands: [
      Demo.self, Import.self, Export.self, Log.self, View.self, Audit.self, Notifications.self,
      Replay.self, Verify.self,
    ]
  )
}
