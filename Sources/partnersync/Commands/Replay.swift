import ArgumentParser
import Foundation
import PartnerSync

struct Replay: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Rebuild every projection from the log and report what it found and how fast.",
    discussion: """
      Every ticket's versions, decisions and notifications are rebuilt from its events with the \
      same code that validated them; an event the rules refuse on replay is reported (exit 70).

      With --rebuild-outbox it also writes the stored outbox again from what the events send: \
      the repair that verify asks for when only the outbox differs from the events.

      Examples:
        partnersync replay --format json
        partnersync replay --rebuild-outbox
      """)

  @OptionGroup var global: GlobalOptions
  @OptionGroup var output: FormatOptions

  @Flag(help: "Also write the stored outbox again from the events (the log must be writable).")
  var rebuildOutbox = false

  func run() throws {
    let log = try global.openLog(writable: rebuildOutbox)
    if rebuildOutbox { try log.rebuildOutbox() }
    let start = ContinuousClock.now
    let bar = ProgressBar(quiet: global.quiet)
    let summary = try log.replay(progress: bar.handler)
    bar.finish()
    let seconds = (ContinuousClock.now - start) / .seconds(1)
    let rate = seconds > 0 ? Double(summary.events) / seconds : 0
    switch output.format {
    case .json:
      printJSON(
        .object([
          ("events", .number(Double(summary.events))),
          ("tickets", .number(Double(summary.tickets))),
          ("decisions", .number(Double(summary.decisions))),
          ("notifications", .number(Double(summary.notifications))),
          ("seconds", .number((seconds * 1e6).rounded() / 1e6)),
          ("eventsPerSecond", .number(rate.rounded())),
        ]))
    case .text:
      printLines([
        "Replayed \(plural(summary.events, "event")) of \(plural(summary.tickets, "ticket")): \(plural(summary.decisions, "sync decision")), \(plural(summary.notifications, "notification")) in \(String(format: "%.3f", seconds)) s (\(Int(rate)) events/s)."
      ])
    }
  }
}
