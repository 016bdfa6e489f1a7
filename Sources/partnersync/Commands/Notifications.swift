import ArgumentParser
import PartnerSync

struct Notifications: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "The notification outbox (of one ticket, or of the whole log).",
    discussion: """
      Notifications are derived from the history like the views. A delivery process keeps the \
      last position it delivered and asks for what came after it with --after.

      --as PARTNER shows only the notifications addressed to that partner, and names no entry \
      it never held: the lead's notice of a service partner's time entry that was held while \
      the completion waited for approval names no entry. A ticket the partner was never offered \
      is reported exactly as one that does not exist (exit 66). Without --as the outbox is the \
      log owner's: every notification.

      Examples:
        partnersync notifications T-1001
        partnersync notifications T-1001 --as bolt
        partnersync notifications --after 120 --format json
      """)

  @OptionGroup var global: GlobalOptions
  @OptionGroup var output: FormatOptions

  @Argument(help: "The ticket number (all tickets when absent).")
  var ticket: String?

  @Option(
    parsing: .unconditional, help: ArgumentHelp("Only notifications after this log position.", valueName: "position"))
  var after: Int64 = 0

  func validate() throws {
    guard after >= 0 else { throw ValidationError("--after takes a log position from 0, not \(after)") }
  }

  @Option(
    name: .customLong("as"),
    help: ArgumentHelp("Only the notifications of this partner (see above).", valueName: "partner"))
  var partner: String?

  func run() throws {
    let log = try global.openLog()
    let notifications = try log.notifications(ticket: ticket, after: after, as: partner)
    switch output.format {
    case .json: printJSON(.object([("notifications", .array(notifications.map(\.json)))]))
    case .text:
      guard !notifications.isEmpty else { return printLines(["No notifications."]) }
      var table = Table("POS", "TICKET", "PARTNER", "TO", "RULE", "ENTRY", "TEXT")
      table.maximumCellWidth = 120
      for n in notifications {
        table.add(String(n.position), n.ticket, n.partner, n.to, n.rule.rawValue, n.entry ?? "", n.text)
      }
      printLines(table.lines)
    }
  }
}
