import ArgumentParser
import PartnerSync

struct View: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show the ticket as one partner sees it, now or as of a position or time.",
    discussion: """
      --at takes a log position (1…last) or an RFC 3339 time. As of a time, the view shows \
      the ticket's events before its first event stamped after that time: source clocks \
      disagree, so a later event may carry an earlier time, and a view as of a time never \
      shows an event stamped after it.

      A service partner sees its latest engagement's version unless --engagement names another.

      Examples:
        partnersync view T-1001 --as bolt
        partnersync view T-1001 --as acme --at 12
        partnersync view T-1001 --as acme --at 2026-03-02T12:00:00Z --format json
      """)

  @OptionGroup var global: GlobalOptions
  @OptionGroup var output: FormatOptions

  @Argument(help: "The ticket number.")
  var ticket: String

  @Option(name: .customLong("as"), help: ArgumentHelp("The partner whose version to show.", valueName: "partner"))
  var partner: String

  // `.unconditional`: a value that starts with '-' (`--at -3`) is read, and refused as a value.
  @Option(
    parsing: .unconditional,
    help: ArgumentHelp("A log position (1…last) or an RFC 3339 time.", valueName: "position-or-time"))
  var at: String?

  @Option(
    parsing: .unconditional, help: ArgumentHelp("A service partner's engagement number (1, 2, …).", valueName: "n"))
  var engagement: Int?

  func validate() throws {
    if let at { _ = try parsePoint(at) }
    if let engagement, engagement < 1 {
      throw ValidationError("--engagement takes an engagement number from 1, not \(engagement)")
    }
  }

  func run() throws {
    let log = try global.openLog()
    let point = try at.map(parsePoint) ?? .latest
    let view = try log.view(ticket: ticket, as: partner, at: point, engagement: engagement)
    switch output.format {
    case .json: printJSON(view.json)
    case .text: printLines(ViewText.lines(view))
    }
  }
}

/// What `--at` accepts, for its error messages.
let pointUsage =
  "--at takes a log position (a whole number from 1 to the last position) or an RFC 3339 time such as 2026-03-02T09:00:00Z"

/// Reads `--at`: digits are a position, anything else must be an RFC 3339 time.
func parsePoint(_ text: String) throws -> PartnerSyncLog.Point {
  if !text.isEmpty, text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber) {
    guard let position = Int64(text) else {
      throw ValidationError("--at \(text) is not a position of the log; \(pointUsage)")
    }
    return .position(position)
  }
  // A number that is not a whole number from 1 (`-3`, `12.5`, `+4`, `1e3`) is no position.
  if let first = text.first, "-+.".contains(first) || first.isNumber, Double(text) != nil {
    throw ValidationError("--at \(text) is not a position; \(pointUsage)")
  }
  switch Timestamp.parse(text) {
  case .success(let time): return .time(time)
  case .failure(let error):
    throw ValidationError(
      "--at '\(text)' is neither a log position nor an RFC 3339 time (\(error.message)); \(pointUsage)")
  }
}

/// The text form of a view.
enum ViewText {
  static func lines(_ view: TicketView) -> [String] {
    let engagement = view.engagement.map { "engagement \($0), " } ?? ""
    let lines = [
      "Ticket \(view.ticket) as \(view.partner) (\(view.role.rawValue)): \(engagement)status \(view.status?.rawValue ?? "none"), as of position \(view.position)"
    ]
    guard !view.entries.isEmpty else { return lines + ["  (no entries)"] }
    var table = Table("ENTRY", "KIND", "OWNER", "ORIGIN", "VISIBILITY", "DETAILS")
    for entry in view.entries {
      let origin =
        (entry.isCopy ? "copy" : "own") + (entry.severed ? " (severed)" : "") + (entry.system ? " (system)" : "")
      let kind = (entry.content.kind?.rawValue ?? "") + (entry.convertedFrom.map { " (from \($0.rawValue))" } ?? "")
      table.add(
        entry.id, kind, entry.owner, origin, entry.content.visibility?.rawValue ?? "-",
        details(entry.content))
    }
    return lines + table.lines.map { "  " + $0 }
  }

  static func details(_ c: EntryContent) -> String {
    [
      c.hours.map { "\(formatNumber($0)) h" }, c.amount.map { "amount \(formatNumber($0))" },
      c.billable.map { $0 ? "billable" : "non-billable" }, c.attachmentType?.rawValue, c.name, c.uri,
      c.title.map { "\"\($0)\"" }, c.text,
    ].compactMap { $0 }.joined(separator: " · ")
  }
}
