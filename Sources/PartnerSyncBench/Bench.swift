import CSQLite
import EventLog
import Foundation
import PartnerSync

/// One run of the benchmark: generates the history, then measures PartnerSync and the raw
/// SQLite reference side by side, in one temporary directory.
struct Bench {
  let options: BenchOptions

  func run() throws -> Figures {
    var figures = Figures(events: options.events, tickets: options.ticketCount, rounds: options.rounds)
    let history = options.generateHistory()

    let directory = try makeTemporaryDirectory()
    figures.directory = directory
    defer {
      if !options.keep { try? FileManager.default.removeItem(atPath: directory) }
    }
    let logPath = directory + "/log.sqlite"
    let rawPath = directory + "/raw.sqlite"
    let total = Double(options.events + history.tail.count)

    // Import: validated, hashed, one transaction; then the same rows through the C API in one
    // transaction, into a file the log's schema made. Each round imports into new files, the
    // two alternating so that both meet the machine in the same state; the last round's files
    // stay for what follows. Dirty pages are flushed before each (`sync`), as before the durable
    // appends: otherwise whichever runs second shares the disk with the first one's writeback.
    var rows: RawRows?
    var importing: PartnerSyncLog?
    var importSamples = Samples()
    for round in 1...options.rounds {
      if round > 1 {
        for path in [logPath, rawPath] { removeLogFiles(path) }
      }
      importing = nil  // the previous round's log is closed before its files go
      let log = try PartnerSyncLog.open(path: logPath, create: true)
      importing = log
      sync()
      let clock = Stopwatch()
      try log.importJSONLines(history.jsonLines, now: Timestamp(microseconds: 0), keepingDecisions: false)
      let importSeconds = clock.seconds
      if rows == nil { rows = try RawRows.load(path: logPath) }
      let rawSeconds = try RawSQLite.insertIntoNewLog(rows!, path: rawPath)
      importSamples.add(Double(options.events) / importSeconds, Double(options.events) / rawSeconds)
      note("import: \(format(importSeconds)) s, raw insert: \(format(rawSeconds)) s (round \(round))")
    }
    (figures.importRate, figures.rawInsertRate, figures.importRatio) = importSamples.medians

    // The same, each in a process of its own (`import-only` of the history written to a file, then
    // `raw-insert` of the imported rows), as `partnersync import` runs: a fresh process grows its
    // heap from nothing, which the rounds above, after the generation and the earlier rounds,
    // mostly do not.
    let historyPath = directory + "/history.jsonl"
    _ = FileManager.default.createFile(atPath: historyPath, contents: Data(history.jsonLines))
    let freshLogPath = directory + "/fresh.sqlite"
    let freshRawPath = directory + "/fresh-raw.sqlite"
    var freshSamples = Samples()
    for round in 1...options.rounds {
      for path in [freshLogPath, freshRawPath] { removeLogFiles(path) }
      sync()
      let imported = try ChildRun.run(["import-only", "--file", historyPath, "--db", freshLogPath])
      precondition(Int(imported.events) == options.events)
      sync()
      let inserted = try ChildRun.run(["raw-insert", "--from", freshLogPath, "--db", freshRawPath])
      precondition(Int(inserted.events) == options.events)
      freshSamples.add(imported.events / imported.seconds, inserted.events / inserted.seconds)
      note(
        "import in a process of its own: \(format(imported.seconds)) s, raw insert: \(format(inserted.seconds)) s (round \(round))"
      )
    }
    (figures.freshImportRate, figures.freshRawInsertRate, figures.freshImportRatio) = freshSamples.medians
    for path in [freshLogPath, freshRawPath, historyPath] { removeLogFiles(path) }
    let log = importing!
    let raw = try RawSQLite.open(rawPath)
    defer { sqlite3_close_v2(raw) }

    // Durable appends, one event per transaction at the log's default synchronous level, each
    // followed by the raw insert of the same row in a transaction of its own: the two alternate,
    // so that both meet the same disk. Both files' pages are flushed first. The first half goes
    // through the log that imported (its recent tickets' projections are at hand, as in a
    // connector that keeps its log open), the second half through a log opened afresh (each
    // ticket's history is folded from the file on its first append).
    do {
      sync()
      let reader = try RawSQLite.open(logPath)
      defer { sqlite3_close_v2(reader) }
      try RawSQLite.execute(raw, "PRAGMA synchronous = FULL")
      try measureAppends(
        history.tail, warm: log, afresh: try PartnerSyncLog.open(path: logPath), into: &figures
      ) { position in
        try RawSQLite.insertEach(
          try RawRows.load(from: reader, position: position), range: 0..<1, into: raw, synchronous: nil)
      }
    }

    try measureReplayAndVerify(db: logPath, log: log, total: total, rounds: options.rounds, into: &figures)
    figures.rawGroupedScanRate = total / (try RawSQLite.scan(path: logPath, order: "stream, version").seconds)
    try measureQueries(log: log, history: history, seed: options.seed, samples: options.samples, into: &figures)

    note("replay peak RSS: \(format(figures.replayPeakRSSMB)) MB")
    figures.replayedEvents = Int(total)
    return figures
  }

  private func removeLogFiles(_ path: String) {
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
  }

  private func makeTemporaryDirectory() throws -> String {
    let parent = options.directory ?? ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
    var template = Array((parent + "/partnersync-bench-XXXXXX").utf8CString)
    guard let made = mkdtemp(&template) else {
      throw RawSQLiteError(description: "cannot make a temporary directory in \(parent)")
    }
    return String(cString: made)
  }
}

/// Durable appends of `events`, one per transaction, each followed by the raw commit of the same
/// row (`rawCommit` of its position returns the seconds it took): the two alternate, so that both
/// meet the same disk. The first half goes through `warm`, the log that imported (its recent
/// tickets' projections are at hand, as in a connector that keeps its log open), the second half
/// through `afresh`, opened anew (each ticket's history is folded on its first append).
func measureAppends(
  _ events: [TicketEvent], warm: PartnerSyncLog, afresh: PartnerSyncLog, into figures: inout Figures,
  rawCommit: (Int64) throws -> Double
) throws {
  let half = events.count / 2
  var position = try warm.lastPosition()
  // The appending thread's CPU time of the warm appends and of the raw commits beside them.
  var (appendCPU, rawCPU) = ((user: 0.0, system: 0.0), (user: 0.0, system: 0.0))
  for (index, event) in events.enumerated() {
    let (appendClock, appendStart) = (Stopwatch(), threadCPUSeconds())
    try (index < half ? warm : afresh).record([event], now: Timestamp(microseconds: 0))
    let seconds = appendClock.seconds
    if index < half {
      figures.appendSeconds += seconds
      let end = threadCPUSeconds()
      appendCPU.user += end.user - appendStart.user
      appendCPU.system += end.system - appendStart.system
    } else {
      figures.coldAppendSeconds += seconds
    }
    position += 1
    let rawStart = threadCPUSeconds()
    figures.rawCommitSeconds += try rawCommit(position)
    let rawEnd = threadCPUSeconds()
    rawCPU.user += rawEnd.user - rawStart.user
    rawCPU.system += rawEnd.system - rawStart.system
  }
  figures.appends = half
  figures.coldAppends = events.count - half
  figures.rawCommits = events.count
  note(
    "appends: \(format(figures.appendSeconds)) s warm, \(format(figures.coldAppendSeconds)) s afresh, "
      + "raw \(format(figures.rawCommitSeconds)) s; CPU (user + kernel) \(micros(appendCPU, half)) µs a warm append, "
      + "\(micros(rawCPU, events.count)) µs a raw commit with the read of its row")
}

/// Microseconds of user and kernel CPU time per one of `count`, as "user + kernel".
private func micros(_ time: (user: Double, system: Double), _ count: Int) -> String {
  "\(format(time.user / Double(count) * 1e6)) + \(format(time.system / Double(count) * 1e6))"
}

/// Replay and verify against the raw scan of the log at `db` (a path or a `postgresql://` URL),
/// alternating, a round each (the log is in the cache after the first). A replay runs in a
/// process of its own, as `partnersync replay` does, rather than in the benchmark's, whose heap
/// the imports have left fragmented; so does the raw scan beside it. The replay processes also
/// report their peak memory.
func measureReplayAndVerify(
  db: String, log: PartnerSyncLog, total: Double, rounds: Int, into figures: inout Figures
) throws {
  var replaySamples = Samples()
  var verifySamples = Samples()
  for round in 0...rounds {
    let replay = try ChildRun.run(["replay-only", "--db", db])
    precondition(replay.events == total)
    let replaySeconds = replay.seconds
    figures.replayPeakRSSMB = max(figures.replayPeakRSSMB, replay.peakMB)
    let scan = try ChildRun.run(["raw-scan", "--db", db])
    precondition(scan.events == total)
    let verifyClock = Stopwatch()
    let report = try log.verify()
    precondition(report.isHealthy && Double(report.events) == total)
    let verifySeconds = verifyClock.seconds
    guard round > 0 else { continue }  // the first round warms the cache
    replaySamples.add(total / replaySeconds, total / scan.seconds)
    verifySamples.add(total / verifySeconds, total / scan.seconds)
    note(
      "replay: \(format(replaySeconds)) s, raw scan: \(format(scan.seconds)) s, verify: \(format(verifySeconds)) s (round \(round))"
    )
  }
  (figures.replayRate, figures.rawScanRate, figures.replayRatio) = replaySamples.medians
  (figures.verifyRate, _, figures.verifyRatio) = verifySamples.medians
}

/// One ticket's view and audit in the full log, and a page of 100 notifications after a cursor
/// anywhere in the outbox, every partner's or one partner's (half each), as a delivery loop or a
/// partner's client asks for it.
func measureQueries(
  log: PartnerSyncLog, history: HistoryGenerator.History, seed: UInt64, samples: Int, into figures: inout Figures
) throws {
  var rng = SplitMix64(seed: seed ^ 0xA5A5)
  var viewTimes: [Double] = []
  var auditTimes: [Double] = []
  for round in 0..<(samples + 50) {
    let ticket = rng.pick(history.tickets)
    let partner =
      round.isMultiple(of: 2) || ticket.partners.isEmpty ? ticket.lead : rng.pick(ticket.partners)
    let viewClock = Stopwatch()
    _ = try log.view(ticket: ticket.ticket, as: partner)
    let viewSeconds = viewClock.seconds
    let auditClock = Stopwatch()
    _ = try log.audit(ticket: ticket.ticket)
    let auditSeconds = auditClock.seconds
    if round >= 50 {  // the first rounds warm up
      viewTimes.append(viewSeconds * 1000)
      auditTimes.append(auditSeconds * 1000)
    }
  }
  figures.viewP50 = percentile(viewTimes, 50)
  figures.viewP99 = percentile(viewTimes, 99)
  figures.auditP50 = percentile(auditTimes, 50)
  figures.auditP99 = percentile(auditTimes, 99)

  var pageTimes: [Double] = []
  let last = try log.lastPosition()
  for round in 0..<(samples + 50) {
    let cursor = OutboxCursor(position: Int64.random(in: 0...last, using: &rng), index: 0)
    let ticket = rng.pick(history.tickets)
    let partner = round.isMultiple(of: 2) ? nil : ticket.lead
    let pageClock = Stopwatch()
    let page = try log.outbox(after: cursor, limit: 100, as: partner)
    let pageSeconds = pageClock.seconds
    precondition(page.count <= 100)
    if round >= 50 { pageTimes.append(pageSeconds * 1000) }
  }
  figures.outboxPageP50 = percentile(pageTimes, 50)
  figures.outboxPageP99 = percentile(pageTimes, 99)

}

/// A replay on its own: `PartnerSyncBench replay-only --db PATH` (or a `postgresql://` URL)
/// prints one JSON line with the events replayed, the seconds and the peak resident memory
/// (VmHWM) of the process.
enum ReplayOnly {
  static func run(path: String) throws {
    let log = try PartnerSyncLog.open(url: path)
    let before = procStatusKiB("VmHWM") ?? 0
    let clock = Stopwatch()
    let summary = try log.replay()
    let seconds = clock.seconds
    let peak = procStatusKiB("VmHWM") ?? 0
    let line = JSONValue.object([
      ("events", .number(Double(summary.events))),
      ("seconds", .number(rounded(seconds, 6))),
      ("per_s", .number((Double(summary.events) / seconds).rounded())),
      ("vmhwm_before_mb", .number(rounded(Double(before) / 1024, 1))),
      ("vmhwm_mb", .number(rounded(Double(peak) / 1024, 1))),
    ])
    print(line.jsonText)
  }
}

/// A run of this program in a child process (`replay-only`, `raw-scan`, `import-only`,
/// `append-writer`…): what it read or wrote, in how long, and its peak resident memory.
enum ChildRun {
  static func run(_ arguments: [String]) throws -> (events: Double, seconds: Double, peakMB: Double) {
    try runTogether([arguments])[0]
  }

  /// Runs the children at the same time and waits for them all.
  static func runTogether(_ children: [[String]]) throws -> [(events: Double, seconds: Double, peakMB: Double)] {
    let started = try children.map { arguments in
      let process = Process()
      process.executableURL = URL(fileURLWithPath: "/proc/self/exe")
      process.arguments = arguments
      let output = Pipe()
      process.standardOutput = output
      try process.run()
      return (process, output, arguments[0])
    }
    return try started.map { process, output, command in
      let data = output.fileHandleForReading.readDataToEndOfFile()
      process.waitUntilExit()
      let text = String(decoding: data, as: UTF8.self)
      guard process.terminationStatus == 0,
        let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
        let events = object["events"] as? Double, let seconds = object["seconds"] as? Double
      else {
        throw RawSQLiteError(description: "\(command) failed: \(text)")
      }
      return (events, seconds, object["vmhwm_mb"] as? Double ?? 0)
    }
  }
}

func rounded(_ value: Double, _ digits: Int) -> Double {
  let scale = pow(10, Double(digits))
  return (value * scale).rounded() / scale
}

func format(_ value: Double) -> String {
  String(format: "%.3f", value)
}
