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
    var out = Output()
    switch output.format {
    case .json:
      var events: [JSONValue] = []
      try report {
        try log.forEachEvent(ticket: ticket) { recorded in
          var members: [(key: String, value: JSONValue)] = [
            ("position", .number(Double(recorded.position))),
            ("ticket", .string(recorded.event.ticket)),
            ("version", .number(Double(recorded.version))),
            ("at", .string(recorded.at.rfc3339)),
            ("type", .string(recorded.event.type.rawValue)),
            ("by", .string(recorded.event.by)),
          ]
          if let entry = recorded.event.payload.entry { members.append(("entry", .string(entry))) }
          events.append(.object(members))
        }
      }
      out.line(JSONValue.object([("events", .array(events))]).jsonText)
    case .text:
      var table = Table("POSITION", "TIME", "TICKET", "TYPE", "BY", "ENTRY")
      try report {
        try log.forEachEvent(ticket: ticket) { recorded in
          table.add(
            String(recorded.position), recorded.at.rfc3339, recorded.event.ticket,
            recorded.event.type.rawValue, recorded.event.by, recorded.event.payload.entry ?? "")
        }
      }
      if table.rows.isEmpty {
        // (A ticket that is not in the log is an error, exit 66.)
        printNote("The log \(global.path) is empty.", quiet: global.quiet)
      } else {
        table.lines.forEach { out.line($0) }
      }
    }
    out.flush()
  }
}
