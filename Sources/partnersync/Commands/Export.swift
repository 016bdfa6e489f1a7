import ArgumentParser
import PartnerSync

struct Export: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write the log (or one ticket's history) as JSON Lines, with positions.",
    discussion: """
      The output can be imported into another log: export, import, export gives the same lines.

      --as PARTNER writes only the events that partner recorded itself (its own entries and \
      changes, its answers to the lead), with their positions in the whole log; such an export \
      alone need not import into an empty log, since it lacks the other partner's events. A \
      ticket the partner was never offered is reported exactly as one that does not exist \
      (exit 66). Without --as the export is the log owner's: every event.

      Examples:
        partnersync export > backup.jsonl
        partnersync export --ticket T-1001
        partnersync export --as bolt
      """)

  @OptionGroup var global: GlobalOptions

  @Option(help: "Only this ticket's history.")
  var ticket: String?

  @Option(
    name: .customLong("as"),
    help: ArgumentHelp("Only the events this partner recorded itself (see above).", valueName: "partner"))
  var partner: String?

  func run() throws {
    let log = try global.openLog()
    var out = Output()
    try log.export(ticket: ticket, as: partner) { out.line($0) }
    out.flush()
  }
}
