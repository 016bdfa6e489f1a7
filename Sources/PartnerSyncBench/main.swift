// The benchmark of Scripts/bench; see Docs/performance.md.
//
//   PartnerSyncBench [--events N] [--tickets N] [--appends N] [--samples N] [--active N]
//                    [--rounds N] [--dir PATH] [--keep] [--json]
//   PartnerSyncBench --backend postgresql [--writer-seconds N] [options as above]
//   PartnerSyncBench replay-only --db PATH|URL
//   PartnerSyncBench raw-scan --db PATH|URL
//   PartnerSyncBench append-writer --db URL --writer N --start EPOCH --seconds S   (one writer process)
//   PartnerSyncBench generate --events N --out FILE      (the history as JSON Lines, for profiling)
//   PartnerSyncBench import-only --file FILE --db PATH|URL   (one import, timed)
//   PartnerSyncBench raw-insert --from LOG --db PATH     (LOG's rows inserted raw into a new PATH, timed)
//   PartnerSyncBench append-only --file FILE --db PATH|URL --count N   (the last N events appended one by one)
import Foundation
import PartnerSync
import PostgresEventLog

let usage = """
  usage: PartnerSyncBench [--events N] [--tickets N] [--appends N] [--samples N] [--active N]
                          [--rounds N] [--dir PATH] [--keep] [--json]
         PartnerSyncBench --backend postgresql [--writer-seconds N] [the options above]
         PartnerSyncBench replay-only --db PATH|URL
         PartnerSyncBench raw-scan --db PATH|URL
         PartnerSyncBench append-writer --db URL --writer N --start EPOCH --seconds S
         PartnerSyncBench generate --events N --out FILE
         PartnerSyncBench import-only --file FILE --db PATH|URL
         PartnerSyncBench raw-insert --from LOG --db PATH
         PartnerSyncBench append-only --file FILE --db PATH|URL --count N
  """

do {
  var arguments = Array(CommandLine.arguments.dropFirst())
  if arguments.first == "generate", arguments.count == 5, arguments[1] == "--events", arguments[3] == "--out",
    let events = Int(arguments[2])
  {
    var generator = HistoryGenerator(seed: BenchOptions.defaultSeed)
    let history = generator.generate(
      events: events, tailCount: 0, tickets: max(1, events / 50), activeTickets: 500)
    _ = FileManager.default.createFile(atPath: arguments[4], contents: Data(history.jsonLines))
  } else if arguments.first == "import-only", arguments.count == 5, arguments[1] == "--file", arguments[3] == "--db" {
    // Read, then imported in place, as `partnersync import` reads a file.
    let data = try Data(contentsOf: URL(fileURLWithPath: arguments[2]))
    let log = try PartnerSyncLog.open(url: arguments[4], create: true)
    let clock = Stopwatch()
    // When each phase was first reported: how long parsing took before validation began.
    var phaseStarts: [(String, Double)] = []
    let result = try data.withUnsafeBytes { bytes in
      try log.importJSONLines(bytes, now: Timestamp(microseconds: 0), keepingDecisions: false) { report in
        if phaseStarts.last?.0 != report.phase.rawValue { phaseStarts.append((report.phase.rawValue, clock.seconds)) }
      }
    }
    let seconds = clock.seconds
    print(
      JSONValue.object(
        [
          ("events", .number(Double(result.count))), ("seconds", .number(rounded(seconds, 3))),
          ("per_s", .number((Double(result.count) / seconds).rounded())),
        ] + phaseStarts.map { ("\($0.0)_from_s", .number(rounded($0.1, 3))) }
      ).jsonText)
  } else if arguments.first == "raw-insert", arguments.count == 5, arguments[1] == "--from", arguments[3] == "--db" {
    let rows = try RawRows.load(path: arguments[2])
    let seconds = try RawSQLite.insertIntoNewLog(rows, path: arguments[4])
    print(
      JSONValue.object([
        ("events", .number(Double(rows.rows.count))), ("seconds", .number(rounded(seconds, 3))),
        ("per_s", .number((Double(rows.rows.count) / seconds).rounded())),
      ]).jsonText)
  } else if arguments.first == "append-only", arguments.count == 7, arguments[1] == "--file", arguments[3] == "--db",
    arguments[5] == "--count", let count = Int(arguments[6])
  {
    // Imports all but the last `count` lines, then records those one at a time through the same
    // log (its projections at hand), as a connector that keeps its log open does.
    let bytes = [UInt8](FileManager.default.contents(atPath: arguments[2]) ?? Data())
    let lines = try EventLines.parse(bytes).map(\.event)
    let log = try PartnerSyncLog.open(url: arguments[4], create: true)
    try log.record(Array(lines.dropLast(count)), now: Timestamp(microseconds: 0))
    let clock = Stopwatch()
    try appendOneByOne(lines.suffix(count), to: log)
    let seconds = clock.seconds
    print(
      JSONValue.object([
        ("appends", .number(Double(count))), ("seconds", .number(rounded(seconds, 3))),
        ("per_s", .number((Double(count) / seconds).rounded())),
      ]).jsonText)
  } else if let command = arguments.first, ["replay-only", "raw-scan"].contains(command) {
    arguments.removeFirst()
    guard arguments.count == 2, arguments[0] == "--db" else {
      note(usage)
      exit(64)
    }
    if command == "raw-scan" {
      let scan =
        PostgresLocation.isURL(arguments[1])
        ? try RawPostgres(try PostgresLocation(url: arguments[1])).scan(
          schema: "\"\(try PostgresLocation(url: arguments[1]).schema)\"")
        : try RawSQLite.scan(
          path: arguments[1], pragmas: ProcessInfo.processInfo.environment["RAW_SCAN_PRAGMAS"] ?? "")
      print(
        JSONValue.object([
          ("events", .number(Double(scan.rows))), ("seconds", .number(rounded(scan.seconds, 6))),
          ("per_s", .number((Double(scan.rows) / scan.seconds).rounded())),
        ]).jsonText)
    } else {
      try ReplayOnly.run(path: arguments[1])
    }
  } else if arguments.first == "append-writer", arguments.count == 9, arguments[1] == "--db",
    arguments[3] == "--writer", let writer = Int(arguments[4]), arguments[5] == "--start",
    let start = Double(arguments[6]), arguments[7] == "--seconds", let seconds = Double(arguments[8])
  {
    try AppendWriter.run(url: arguments[2], writer: writer, start: start, seconds: seconds)
  } else {
    let options = try BenchOptions(arguments)
    let figures: Figures
    if options.backend == "postgresql" {
      guard let database = ProcessInfo.processInfo.environment["PARTNERSYNC_TEST_POSTGRES"], !database.isEmpty else {
        note("error: --backend postgresql needs PARTNERSYNC_TEST_POSTGRES, a database URL (Scripts/bench sets it)")
        exit(64)
      }
      figures = try PostgresBench(options: options, database: database).run()
    } else {
      figures = try Bench(options: options).run()
    }
    if !options.json {
      print(figures.table)
    }
    print(figures.jsonLine)
  }
} catch let error as BenchOptions.UsageError {
  note("error: \(error.message)\n\(usage)")
  exit(64)
} catch {
  note("error: \(error)")
  exit(1)
}

/// Records `events` one at a time (a function of its own, so that a profiler can measure it alone:
/// `valgrind --tool=callgrind --toggle-collect='*appendOneByOne*'`).
@inline(never)
func appendOneByOne(_ events: ArraySlice<TicketEvent>, to log: PartnerSyncLog) throws {
  for event in events {
    try log.record([event], now: Timestamp(microseconds: 0))
  }
}
