import ArgumentParser
import PartnerSync

struct Audit: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Every sync decision of a ticket (or one entry), in order, with its rule.",
    discussion: """
      Each decision says whose change it was (by), whose version it is about (to), what became of
      it (synced, not-synced, held, released, dropped), the rule that decided it and why.

      Examples:
        partnersync audit T-1001
        partnersync audit T-1001 --entry n2 --format json
      """)

  @OptionGroup var global: GlobalOptions
  @OptionGroup var output: FormatOptions

  @Argument(help: "The ticket number.")
  var ticket: String

  @Option(help: "Only the decisions about this entry.")
  var entry: String?

  func run() throws {
    let log = try global.openLog()
    let decisions = try report { try log.audit(ticket: ticket, entry: entry) }
    var out = Output()
    switch output.format {
    case .json:
      out.line(
        JSONValue.object([("ticket", .string(ticket)), ("decisions", .array(decisions.map(\.json)))]).jsonText)
    case .text:
      AuditText.lines(ticket: ticket, entry: entry, decisions: decisions).forEach { out.line($0) }
    }
    out.flush()
  }
}

/// The text form of an audit.
enum AuditText {
  static func lines(ticket: String, entry: String?, decisions: [SyncDecision]) -> [String] {
    let subject = entry.map { "entry \($0) of ticket \(ticket)" } ?? "ticket \(ticket)"
    guard !decisions.isEmpty else { return ["No sync decisions for \(subject)."] }
    var table = Table("POS", "EVENT", "ENTRY", "BY→TO", "OUTCOME", "RULE", "BECAUSE")
    table.maximumCellWidth = 200
    for d in decisions {
      var rule = d.rule.rawValue
      if !d.transforms.isEmpty { rule += " +" + d.transforms.map(\.rawValue).joined(separator: " +") }
      table.add(
        String(d.position), d.event.rawValue, d.entry, "\(d.by)→\(d.to)", d.outcome.rawValue, rule,
        d.because)
    }
    return ["Sync decisions for \(subject):"] + table.lines.map { "  " + $0 }
  }
}
