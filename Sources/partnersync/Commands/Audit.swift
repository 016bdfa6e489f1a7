import ArgumentParser
import PartnerSync

struct Audit: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Every sync decision of a ticket (or one entry), in order, with its rule.",
    discussion: """
      Each decision says whose change it was (by), whose version it is about (to), what became of \
      it (synced, not-synced, held, released, dropped), the rule that decided it and why. An \
      entry the ticket never had is an error (exit 66); one that no decision is about lists none.

      --as PARTNER shows only what that partner may know: the decisions about changes it made \
      itself and those that changed its version; never another partner's held, dropped or \
      filtered change, nor another service partner's engagement. A ticket it was never offered, \
      or an entry it never held, is reported exactly as one that does not exist (exit 66). \
      Without --as the audit is the log owner's: every decision.

      --at shows the audit as of a log position or an RFC 3339 time, as view --at does: the \
      decisions taken up to there.

      Examples:
        partnersync audit T-1001
        partnersync audit T-1001 --at 12
        partnersync audit T-1001 --entry n2 --format json
        partnersync audit T-1001 --as bolt
        partnersync audit T-1001 --format mermaid > T-1001.mmd
      """)

  @OptionGroup var global: GlobalOptions

  /// The audit's own formats: the shared two, and a diagram.
  enum Format: String, ExpressibleByArgument, CaseIterable {
    case text, json, mermaid
  }

  @Option(help: "Output format: text (a readable table), json, or mermaid (a sequence diagram).")
  var format: Format = .text

  @Argument(help: "The ticket number.")
  var ticket: String

  @Option(help: "Only the decisions about this entry.")
  var entry: String?

  @Option(
    name: .customLong("as"),
    help: ArgumentHelp("Only what this partner may know (see above).", valueName: "partner"))
  var partner: String?

  // `.unconditional`: a value that starts with '-' (`--at -3`) is read, and refused as a value.
  @Option(
    parsing: .unconditional,
    help: ArgumentHelp("The audit as of a log position (1…last) or an RFC 3339 time.", valueName: "position-or-time"))
  var at: String?

  func validate() throws {
    if let at { _ = try parsePoint(at) }
  }

  func run() throws {
    let log = try global.openLog()
    let point = try at.map(parsePoint) ?? .latest
    let decisions = try log.audit(ticket: ticket, entry: entry, at: point, as: partner)
    switch format {
    case .mermaid:
      let projection = try log.projection(ticket: ticket, through: log.position(of: point, ticket: ticket))
      var out = Output()
      if let partner, let projection {
        // Only what the partner may know: its own engagements, and captions from its versions.
        let lead = projection.lead
        out.line(
          AuditDiagram.mermaid(
            ticket: ticket, lead: lead,
            partners: partner == lead ? Array(projection.partners.dropFirst()) : [partner],
            decisions: decisions, titles: projection.entryTitles(seenBy: partner),
            engagements: partner == lead ? projection.engagementSummaries : []),
          terminator: false)
      } else {
        out.line(
          AuditDiagram.mermaid(
            ticket: ticket, lead: projection?.lead, partners: Array((projection?.partners ?? []).dropFirst()),
            decisions: decisions, titles: projection?.entryTitles ?? [:],
            engagements: projection?.engagementSummaries ?? []),
          terminator: false)
      }
      out.flush()
    case .json: printJSON(AuditText.json(ticket: ticket, decisions: decisions))
    case .text: printLines(AuditText.lines(ticket: ticket, entry: entry, decisions: decisions))
    }
  }
}

/// The text and JSON forms of an audit.
enum AuditText {
  static func json(ticket: String, decisions: [SyncDecision]) -> JSONValue {
    .object([("ticket", .string(ticket)), ("decisions", .array(decisions.map(\.json)))])
  }

  static func lines(ticket: String, entry: String?, decisions: [SyncDecision]) -> [String] {
    let subject = entry.map { "entry \($0) of ticket \(ticket)" } ?? "ticket \(ticket)"
    guard !decisions.isEmpty else { return ["No sync decisions for \(subject)."] }
    var table = Table("POS", "EVENT", "ENTRY", "BY→TO", "OUTCOME", "RULE", "BECAUSE")
    table.maximumCellWidth = 200
    if Terminal.colorsOnStdout {
      table.style = { column, raw, padded in
        guard column == 4, let outcome = SyncOutcome(rawValue: raw) else { return padded }
        return Terminal.paint(padded, Terminal.color(for: outcome), enabled: true)
      }
    }
    for d in decisions {
      let rule = ([d.rule] + d.transforms).map(\.rawValue).joined(separator: " +")
      table.add(
        String(d.position), d.event.rawValue, d.entry, "\(d.by)→\(d.to)", d.outcome.rawValue, rule, d.because)
    }
    return ["Sync decisions for \(subject):"] + table.lines.map { "  " + $0 }
  }
}
