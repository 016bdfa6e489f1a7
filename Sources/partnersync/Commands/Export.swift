import ArgumentParser
import PartnerSync

struct Export: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write the log (or one ticket's history) as JSON Lines, with positions.",
    discussion: """
      The output can be imported into another log: export, import, export gives the same lines.

      Examples:
        partnersync export > backup.jsonl
        partnersync export --ticket T-1001
      """)

  @OptionGroup var global: GlobalOptions

  @Option(help: "Only this ticket's history.")
  var ticket: String?

  func run() throws {
    let log = try global.openLog()
    var out = Output()
    try log.export(ticket: ticket) { out.line($0) }
    out.flush()
  }
}
