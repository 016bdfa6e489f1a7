// The benchmark of Scripts/bench; see Docs/performance.md.
//
//   PartnerSyncBench [--events N] [--tickets N] [--appends N] [--samples N] [--active N]
//                    [--dir PATH] [--keep] [--json]
//   PartnerSyncBench replay-only --db PATH
import Foundation

let usage = """
  usage: PartnerSyncBench [--events N] [--tickets N] [--appends N] [--samples N] [--active N]
                          [--dir PATH] [--keep] [--json]
         PartnerSyncBench replay-only --db PATH
  """

do {
  var arguments = Array(CommandLine.arguments.dropFirst())
  if arguments.first == "replay-only" {
    arguments.removeFirst()
    guard arguments.count == 2, arguments[0] == "--db" else {
      note(usage)
      exit(64)
    }
    try ReplayOnly.run(path: arguments[1])
  } else {
    let options = try BenchOptions(arguments)
    let figures = try Bench(options: options).run()
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
