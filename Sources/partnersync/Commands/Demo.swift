import ArgumentParser
import PartnerSync

struct Demo: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write a sample history into the log and show both partners' views and its audit.",
    discussion: """
      The sample is ticket DEMO-1001: acme outsources it to bolt, both add notes and time, bolt \
      edits acme's note (severing its link), a change is held while acme decides on the \
      completion, released on rejection, and bolt's time is bundled at approval. Running demo \
      again shows the history already in the log.

      Examples:
        partnersync demo
        partnersync --db /tmp/demo.sqlite demo --format json
      """)

  @OptionGroup var global: GlobalOptions
  @OptionGroup var output: FormatOptions

  func run() throws {
    let log = try global.openLog(create: true)
    let ticket = DemoHistory.ticket
    if try log.projection(ticket: ticket) == nil {
      try refuseWriteProtected(
        global.path, nothingDone: "the sample history was not written",
        instead: "run the demo on another log (--db PATH)")
      let result = try log.importJSONLines(Array(DemoHistory.jsonLines.utf8), now: Timestamp.now())
      printNote(
        "Wrote the sample history of \(ticket) to \(global.logName): \(result.count) events at positions \(result.firstPosition)–\(result.lastPosition).",
        quiet: global.quiet)
    } else {
      // Another history under the sample's number is not shown as the sample (events added to
      // the sample since are).
      var stored: [TicketEvent] = []
      try log.forEachEvent(ticket: ticket) { stored.append($0.event) }
      let sample = try EventLines.parse(Array(DemoHistory.jsonLines.utf8)).map(\.event)
      guard stored.prefix(sample.count).map({ Self.timeless($0) }) == sample.map({ Self.timeless($0) }) else {
        throw failure(
          "\(global.logName) already holds a ticket \(ticket) that is not the sample history; nothing was written. Run the demo on another log (--db PATH).",
          Exit.usage)
      }
      printNote("\(global.logName) already holds the sample history of \(ticket); showing it.", quiet: global.quiet)
    }
    let lead = try log.view(ticket: ticket, as: "acme")
    let service = try log.view(ticket: ticket, as: "bolt")
    let decisions = try log.audit(ticket: ticket)
    switch output.format {
    case .json:
      printJSON(
        .object([
          ("views", .array([lead.json, service.json])), ("audit", AuditText.json(ticket: ticket, decisions: decisions)),
        ]))
    case .text:
      printLines(
        ViewText.lines(lead) + [""] + ViewText.lines(service) + [""]
          + AuditText.lines(ticket: ticket, entry: nil, decisions: decisions) + [
            "", "Next: partnersync audit \(ticket) --entry n1   (why acme's later edit never reached bolt)",
            "      partnersync view \(ticket) --as bolt --at 12   (bolt's version while acme decided)",
            "      partnersync notifications \(ticket)",
          ])
    }
  }
}

extension Demo {
  /// `event` without its time: the sample's lines without one are stamped when written.
  static func timeless(_ event: TicketEvent) -> TicketEvent {
    var event = event
    event.at = nil
    return event
  }
}

/// The sample history written by `demo`.
enum DemoHistory {
  static let ticket = "DEMO-1001"

  static let jsonLines = """
    {"type":"outsourced","ticket":"DEMO-1001","by":"acme","partner":"bolt","resource":"dana","rate":90,"at":"2026-03-02T09:00:00Z"}
    {"type":"entry-added","ticket":"DEMO-1001","by":"acme","entry":"n1","kind":"note","title":"Symptoms","text":"Printer on floor 3 jams on tray 2","at":"2026-03-02T09:01:00Z"}
    {"type":"entry-added","ticket":"DEMO-1001","by":"acme","entry":"n2","kind":"note","visibility":"internal","text":"Customer is on a payment plan: keep it short","at":"2026-03-02T09:02:00Z"}
    {"type":"accepted","ticket":"DEMO-1001","by":"bolt","at":"2026-03-02T09:30:00Z"}
    {"type":"entry-added","ticket":"DEMO-1001","by":"acme","entry":"t1","kind":"time","hours":0.5,"text":"Remote triage","at":"2026-03-02T09:35:00Z"}
    {"type":"entry-added","ticket":"DEMO-1001","by":"bolt","entry":"n3","kind":"note","text":"On site at 11:00","at":"2026-03-02T10:00:00Z"}
    {"type":"entry-added","ticket":"DEMO-1001","by":"bolt","entry":"a1","kind":"attachment","attachmentType":"url","name":"Vendor KB","uri":"https://kb.example.com/jams","at":"2026-03-02T10:05:00Z"}
    {"type":"entry-added","ticket":"DEMO-1001","by":"bolt","entry":"t2","kind":"time","hours":2,"text":"Replaced the pickup roller","at":"2026-03-02T12:00:00Z"}
    {"type":"entry-edited","ticket":"DEMO-1001","by":"bolt","entry":"n1","text":"Jams on tray 2: worn pickup roller","at":"2026-03-02T12:05:00Z"}
    {"type":"entry-edited","ticket":"DEMO-1001","by":"acme","entry":"n1","text":"Printer on floor 3 jams on trays 2 and 3","at":"2026-03-02T12:10:00Z"}
    {"type":"completion-requested","ticket":"DEMO-1001","by":"bolt","at":"2026-03-02T12:30:00Z"}
    {"type":"entry-added","ticket":"DEMO-1001","by":"bolt","entry":"n4","kind":"note","text":"Test print attached below","at":"2026-03-02T12:40:00Z"}
    {"type":"completion-rejected","ticket":"DEMO-1001","by":"acme","reason":"Please attach the test print","at":"2026-03-02T13:00:00Z"}
    {"type":"entry-added","ticket":"DEMO-1001","by":"bolt","entry":"a2","kind":"attachment","attachmentType":"file","name":"test-print.pdf","at":"2026-03-02T13:20:00Z"}
    {"type":"completion-requested","ticket":"DEMO-1001","by":"bolt","at":"2026-03-02T13:30:00Z"}
    {"type":"completion-approved","ticket":"DEMO-1001","by":"acme","at":"2026-03-02T14:00:00Z"}
    """
}
