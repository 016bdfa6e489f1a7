import EventLog
import Foundation
import PartnerSync
import PostgresEventLog

/// The benchmark against PostgreSQL (`--backend postgresql`): the same history and figures as
/// ``Bench``, in logs of the database at `PARTNERSYNC_TEST_POSTGRES`, beside raw libpq on the same
/// rows; then the append rate of 1, 2, 4 and 8 writer processes sharing one log.
struct PostgresBench {
  let options: BenchOptions
  /// The database's URL, without `log=`.
  let database: String

  /// The URL of the log `name` in the database.
  func url(_ name: String) -> String {
    database + (database.contains("?") ? "&" : "?") + "log=" + name
  }

  func run() throws -> Figures {
    var figures = Figures(events: options.events, tickets: options.ticketCount, rounds: options.rounds)
    figures.backend = "PostgreSQL"
    let history = options.generateHistory()
    let prefix = "bench\(getpid())_"
    let logURL = url(prefix + "log")
    let logLocation = try PostgresLocation(url: logURL)
    let rawLocation = try PostgresLocation(url: url(prefix + "raw"))
    let logSchema = "\"\(logLocation.schema)\""
    let rawSchema = "\"\(rawLocation.schema)\""
    figures.directory = logLocation.description
    defer {
      if !options.keep {
        for location in [logLocation, rawLocation] { try? PostgresEventLog.remove(at: location) }
      }
    }
    let raw = try RawPostgres(logLocation)
    note(
      "PostgreSQL \(try raw.setting("server_version")): synchronous_commit = \(try raw.setting("synchronous_commit")), "
        + "fsync = \(try raw.setting("fsync"))")
    let total = Double(options.events + history.tail.count)

    // Import: validated, hashed, one transaction; then the same rows copied raw (binary `COPY`,
    // one transaction) into a new log of the same schema. Each round imports into new logs.
    var rows: RawRows?
    var importing: PartnerSyncLog?
    var importSamples = Samples()
    for round in 1...options.rounds {
      importing = nil
      for location in [logLocation, rawLocation] { try PostgresEventLog.remove(at: location) }
      let log = try PartnerSyncLog.open(url: logURL, create: true)
      importing = log
      let clock = Stopwatch()
      try log.importJSONLines(history.jsonLines, now: Timestamp(microseconds: 0), keepingDecisions: false)
      let importSeconds = clock.seconds
      if rows == nil { rows = try raw.rows(schema: logSchema) }
      _ = try PostgresEventLog(location: rawLocation, options: .init(create: true))
      let rawSeconds = try raw.copy(rows!, into: rawSchema)
      importSamples.add(Double(options.events) / importSeconds, Double(options.events) / rawSeconds)
      note("import: \(format(importSeconds)) s, raw COPY: \(format(rawSeconds)) s (round \(round))")
    }
    (figures.importRate, figures.rawInsertRate, figures.importRatio) = importSamples.medians
    let log = importing!

    // Durable appends, one event per transaction at the server's synchronous_commit, each
    // followed by the raw insert of the same row in a transaction of its own (one prepared
    // INSERT): the two alternate. The first half through the log that imported, the second
    // through a log opened afresh.
    try measureAppends(history.tail, warm: log, afresh: try PartnerSyncLog.open(url: logURL), into: &figures) {
      let row = try raw.rows(schema: logSchema, position: $0)
      return try raw.insert(row.rows[0], of: row, into: rawSchema)
    }

    try measureReplayAndVerify(db: logURL, log: log, total: total, rounds: options.rounds, into: &figures)
    figures.rawGroupedScanRate = total / (try raw.scan(schema: logSchema, order: "stream, version").seconds)
    try measureQueries(log: log, history: history, seed: options.seed, samples: options.samples, into: &figures)
    note("replay peak RSS: \(format(figures.replayPeakRSSMB)) MB")
    figures.replayedEvents = Int(total)

    // Writers: N processes append one event per transaction to tickets of their own in one new
    // log, all for the same seconds from the same moment.
    for writers in [1, 2, 4, 8] {
      let location = try PostgresLocation(url: url(prefix + "w\(writers)"))
      defer { try? PostgresEventLog.remove(at: location) }
      _ = try PostgresEventLog(location: location, options: .init(create: true))
      let start = Date().timeIntervalSince1970 + 2
      let results = try ChildRun.runTogether(
        (1...writers).map {
          [
            "append-writer", "--db", url(prefix + "w\(writers)"), "--writer", "\($0)", "--start", "\(start)",
            "--seconds", "\(options.writerSeconds)",
          ]
        })
      let rate = results.reduce(0) { $0 + $1.events / $1.seconds }
      figures.writerRates.append((writers, rate))
      note("\(writers) writer processes: \(Int(rate)) appends/s")
    }
    return figures
  }
}

/// One writer process of the PostgreSQL benchmark: `append-writer --db URL --writer N --start
/// EPOCH --seconds S` waits until `EPOCH` (seconds since 1970), then records one event at a time
/// on tickets of its own (`W<N>-<k>`: outsourced, accepted, then notes) for `S` seconds; it prints
/// the events appended and the seconds taken.
enum AppendWriter {
  static func run(url: String, writer: Int, start: Double, seconds: Double) throws {
    let log = try PartnerSyncLog.open(url: url)
    Thread.sleep(forTimeInterval: max(0, start - Date().timeIntervalSince1970))
    let clock = Stopwatch()
    var appended = 0
    var ticket = 0
    while clock.seconds < seconds {
      ticket += 1
      let id = "W\(writer)-\(ticket)"
      let lines =
        [#"{"type":"outsourced","ticket":"\#(id)","by":"acme","partner":"bolt"}"#]
        + [#"{"type":"accepted","ticket":"\#(id)","by":"bolt"}"#]
        + (1...20).map {
          #"{"type":"entry-added","ticket":"\#(id)","by":"bolt","entry":"n\#($0)","kind":"note","title":"t","text":"note \#($0)"}"#
        }
      for (event, _) in try EventLines.parse(Array(lines.joined(separator: "\n").utf8)) {
        guard clock.seconds < seconds else { break }
        try log.record([event])
        appended += 1
      }
    }
    let elapsed = clock.seconds
    print(
      JSONValue.object([("events", .number(Double(appended))), ("seconds", .number(rounded(elapsed, 6)))]).jsonText)
  }
}
