import Foundation

/// The benchmark's command-line options.
struct BenchOptions {
  struct UsageError: Error {
    var message: String
  }

  /// The log measured: `sqlite` (a file) or `postgresql` (the database of
  /// `PARTNERSYNC_TEST_POSTGRES`).
  var backend = "sqlite"
  /// Events in the imported history.
  var events = 1_000_000
  /// Seconds each process appends for in the PostgreSQL writers' figures.
  var writerSeconds = 5
  /// Tickets they are spread over (default: one per 50 events, 20,000 for a million).
  var tickets: Int?
  /// Events appended one transaction at a time after the import.
  var appends = 2000
  /// Tickets whose view and audit are timed.
  var samples = 1000
  /// Tickets open at the same time while the history is generated.
  var active = 500
  /// Where the temporary directory is made (default: `$TMPDIR` or /tmp).
  var directory: String?
  /// Keep the temporary directory (its logs) after the run.
  var keep = false
  /// Print only the JSON line.
  var json = false
  /// Rounds of import, replay and verify, each beside its raw reference; the figures are medians.
  var rounds = 3
  /// The seed of the synthetic history.
  var seed: UInt64 = Self.defaultSeed

  /// The seed unless told otherwise.
  static let defaultSeed: UInt64 = 0x5EED_2026

  var ticketCount: Int { tickets ?? max(1, events / 50) }

  init(_ arguments: [String]) throws {
    var index = 0
    func value() throws -> String {
      index += 1
      guard index < arguments.count else {
        throw UsageError(message: "\(arguments[index - 1]) needs a value")
      }
      return arguments[index]
    }
    func number() throws -> Int {
      let text = try value()
      guard let n = Int(text.replacingOccurrences(of: "_", with: "")), n > 0 else {
        throw UsageError(message: "\(arguments[index - 1]) needs a positive whole number, not \(text)")
      }
      return n
    }
    while index < arguments.count {
      switch arguments[index] {
      case "--backend":
        backend = try value()
        guard ["sqlite", "postgresql"].contains(backend) else {
          throw UsageError(message: "--backend is sqlite or postgresql, not \(backend)")
        }
      case "--writer-seconds": writerSeconds = try number()
      case "--events": events = try number()
      case "--tickets": tickets = try number()
      case "--appends": appends = try number()
      case "--samples": samples = try number()
      case "--active": active = try number()
      case "--dir": directory = try value()
      case "--keep": keep = true
      case "--json": json = true
      case "--rounds": rounds = try number()
      case let other: throw UsageError(message: "unknown option \(other)")
      }
      index += 1
    }
  }

  /// Generates the history these options describe: `events` to import, then `appends` more.
  func generateHistory() -> HistoryGenerator.History {
    let generated = Stopwatch()
    var generator = HistoryGenerator(seed: seed)
    let history = generator.generate(
      events: events, tailCount: appends, tickets: ticketCount, activeTickets: active)
    note(
      "generated \(events) + \(history.tail.count) events of \(history.tickets.count) tickets "
        + "(\(history.jsonLines.count / 1_048_576) MiB of JSON Lines) in \(format(generated.seconds)) s")
    return history
  }
}
