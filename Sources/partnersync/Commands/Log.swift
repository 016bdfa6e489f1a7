import ArgumentParser
import PartnerSync

struct Log: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List events with position, time, type and actor.",
    discussion: """
      Examples:
        partnersync log
        partnersync log --ticket T-1001 --format json
      """)

  @OptionGroup var global: GlobalOptions
  @OptionGroup var output: FormatOptions

  @Option(help: "Only this ticket's events.")
  var ticket: String?

  func run() throws {
    let log = try global.openLog()
    var events: [RecordedEvent] = []
    try log.forEachEvent(ticket: ticket) { events.append($0) }
    switch output.format {
    case .json: printJSON(.object([("events", .array(events.map(Self.json)))]))
    case .text:
      // (A ticket that is not in the log is an error, exit 66.)
      guard !events.isEmpty else { return printNote("The log \(global.logName) is empty.", quiet: global.quiet) }
      var table = Table("POSITION", "TIME", "TICKET", "TYPE", "BY", "ENTRY")
      for recorded in events {
        let event = recorded.event
        table.add(
          String(recorded.position), recorded.at.rfc3339, event.ticket, event.type.rawValue, event.by,
          event.payload.entry ?? "")
      }
      printLines(table.lines)
    }
  }

  /// One event of the JSON list.
  static func json(_ recorded: RecordedEvent) -> JSONValue {
    var members: [(key: String, value: JSONValue)] = [
      ("position", .number(Double(recorded.position))),
      ("ticket", .string(recorded.event.ticket)),
      ("version", .number(Double(recorded.version))),
      ("at", .string(recorded.at.rfc3339)),
      ("type", .string(recorded.event.type.rawValue)),
      ("by", .string(recorded.event.by)),
    ]
    if let entry = recorded.event.payload.entry { members.append(("entry", .string(entry))) }
    return .object(members)
  }
}
