import ArgumentParser
import EventLog
import PartnerSync

struct Verify: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Check the log's integrity: hash chain, gap-free positions, per-ticket versions.",
    discussion: """
      Recomputes each event's SHA-256 link from its predecessor's and its own stored bytes. Any \
      changed byte, deleted row or reordered rows breaks the chain: verify then exits 1 and names \
      the first bad position.

      Example:
        partnersync verify
      """)

  @OptionGroup var global: GlobalOptions
  @OptionGroup var output: FormatOptions

  func run() throws {
    let log = try global.openLog()
    let result = try log.verify()
    switch output.format {
    case .json:
      var members: [(key: String, value: JSONValue)] = [
        ("ok", .bool(result.isHealthy)), ("events", .number(Double(result.events))),
      ]
      if let bad = result.firstBadPosition {
        members += [("firstBadPosition", .number(Double(bad))), ("problem", .string(result.problem ?? ""))]
      }
      printJSON(.object(members))
    case .text:
      printLines([
        result.firstBadPosition.map { "DAMAGED at position \($0): \(result.problem ?? "the hash chain is broken")." }
          ?? "OK: \(result.events) events, hash chain and positions intact."
      ])
    }
    if let bad = result.firstBadPosition {
      throw failure(
        result.derivedOnly
          ? "the outbox of \(global.logName) differs from its events from position \(bad) (the events are intact); "
            + "run partnersync replay --rebuild-outbox."
          : "the log \(global.logName) is damaged from position \(bad); restore it from a backup or an export.",
        Exit.damaged)
    }
  }
}
