import EventLog
import EventLogTesting
import Testing

@testable import PartnerSync
@testable import PartnerSyncDomain

/// Replay reads the log in position order, with the projections of all tickets under way built
/// side by side, on one thread or with a second one reading ahead: each way must rebuild exactly
/// what folding each ticket on its own gives.
@Suite("Replay")
struct ReplayTests {
  /// Random histories of `count` tickets, interleaved event by event, recorded into `store`; the
  /// tickets in the order they first appear.
  static func interleavedLog(
    tickets count: Int, length: Int, store: any EventLogWriter = InMemoryEventLog()
  ) throws -> (log: PartnerSyncLog, tickets: [String]) {
    var histories: [[TicketEvent]] = []
    for seed in 0..<count {
      let events = try RandomHistory(seed: UInt64(seed) &* 7919, length: length).ticket.recorded.map(\.event)
      histories.append(
        events.map { event in
          var event = event
          event.ticket = "T-\(seed)"
          return event
        })
    }
    var merged: [TicketEvent] = []
    var rng = SplitMix64(seed: 42)
    var next = Array(repeating: 0, count: count)
    while merged.count < histories.reduce(0, { $0 + $1.count }) {
      let pick = Int.random(in: 0..<count, using: &rng)
      guard next[pick] < histories[pick].count else { continue }
      merged.append(histories[pick][next[pick]])
      next[pick] += 1
    }
    let log = PartnerSyncLog(store: store)
    try log.record(merged, now: Ticket.start)
    var seen = Set<String>()
    return (log, merged.map(\.ticket).filter { seen.insert($0).inserted })
  }

  @Test(arguments: [(false, 8192), (true, 8192), (true, 7), (true, 1)] as [(Bool, Int64)])
  func replayRebuildsEveryTicketAsItsOwnFoldDoes(threaded: Bool, chunkSize: Int64) throws {
    let (log, tickets) = try Self.interleavedLog(tickets: 12, length: 40)
    var replayed: [String: Snapshot] = [:]
    var order: [Int64] = []
    let summary = try log.replay(progress: nil, threaded: threaded, chunkSize: chunkSize) { projection in
      replayed[projection.ticket] = Snapshot(projection)
      order.append(projection.position)
    }
    #expect(summary.events == (try log.lastPosition()))
    #expect(summary.tickets == tickets.count)
    #expect(order == order.sorted(), "projections come in the order of the tickets' last events")
    for ticket in tickets {
      let folded = try #require(try log.projection(ticket: ticket))
      #expect(replayed[ticket] == Snapshot(folded), "\(ticket)")
    }
    #expect(summary.decisions == replayed.values.reduce(0) { $0 + $1.decisions.count })
  }

  /// A log whose index names no ticket's last event (it disagrees with the events), and answers
  /// for one stream fewer than it is asked about.
  final class IndexWithoutStreams: ForwardingLog, @unchecked Sendable {
    override func lastPositions(ofStreams streams: [String], through position: Int64) throws -> [Int64?] {
      streams.dropLast().map { _ in nil }
    }
  }

  /// Each projection is handed over with the batch of its ticket's last event as the log's index
  /// gives it; one the index misses is still handed over, complete, at the end, all of them in
  /// the order their tickets first appeared, whichever thread folded them.
  @Test(arguments: [(false, 8192), (true, 8192), (true, 7)] as [(Bool, Int64)])
  func projectionsTheIndexMissesAreHandedOverAtTheEnd(threaded: Bool, chunkSize: Int64) throws {
    let (log, tickets) = try Self.interleavedLog(tickets: 9, length: 30, store: IndexWithoutStreams())
    var handed: [String] = []
    var replayed: [String: Snapshot] = [:]
    let summary = try log.replay(progress: nil, threaded: threaded, chunkSize: chunkSize) { projection in
      handed.append(projection.ticket)
      replayed[projection.ticket] = Snapshot(projection)
    }
    #expect(handed == tickets)
    #expect(summary.tickets == tickets.count)
    #expect(summary.events == (try log.lastPosition()))
    for ticket in tickets {
      let folded = try #require(try log.projection(ticket: ticket))
      #expect(replayed[ticket] == Snapshot(folded), "\(ticket)")
    }
  }

  @Test("a write of many tickets reports their decisions and notifications in log order, counted alike")
  func recordResultMergesTicketsInLogOrder() throws {
    var histories: [[TicketEvent]] = []
    for seed in 0..<8 {
      histories.append(
        try RandomHistory(seed: UInt64(seed) &* 104_729, length: 40).ticket.recorded.map {
          var event = $0.event
          event.ticket = "T-\(seed)"
          return event
        })
    }
    var merged: [TicketEvent] = []
    var rng = SplitMix64(seed: 7)
    var next = Array(repeating: 0, count: histories.count)
    while merged.count < histories.reduce(0, { $0 + $1.count }) {
      let pick = rng.below(histories.count)
      guard next[pick] < histories[pick].count else { continue }
      merged.append(histories[pick][next[pick]])
      next[pick] += 1
    }
    let log = try PartnerSyncLog.inMemory()
    let result = try log.record(merged, now: Ticket.start)
    #expect(result.decisionCount == result.decisions.count)
    let positions = result.decisions.map(\.position)
    #expect(positions == positions.sorted(), "decisions are in log order")
    var expected: [SyncDecision] = []
    var notifications: [PartnerNotification] = []
    for ticket in 0..<histories.count {
      let projection = try #require(try log.projection(ticket: "T-\(ticket)"))
      expected += projection.decisions
      notifications += projection.notifications
    }
    // Ordered by position, and at one position (one event, one ticket) in the ticket's order.
    func inLogOrder<Item>(_ items: [Item], _ position: (Item) -> Int64) -> [Item] {
      items.enumerated().sorted { (position($0.element), $0.offset) < (position($1.element), $1.offset) }.map(\.element)
    }
    #expect(result.decisions == inLogOrder(expected, \.position))
    #expect(result.notifications == inLogOrder(notifications, \.position))
    #expect(!result.decisions.isEmpty)
  }

  @Test("a large import with more tickets than the cache: its result, and the projections it keeps")
  func largeImportResultAndCache() throws {
    let tickets = 1_100  // more than the projection cache holds (1,024)
    func lines(_ ticket: Int) -> [String] {
      [
        #"{"type":"outsourced","ticket":"T-\#(ticket)","by":"acme","partner":"bolt"}"#,
        #"{"type":"accepted","ticket":"T-\#(ticket)","by":"bolt"}"#,
        #"{"type":"entry-added","ticket":"T-\#(ticket)","by":"bolt","entry":"n1","kind":"note","text":"seen"}"#,
        #"{"type":"entry-added","ticket":"T-\#(ticket)","by":"acme","entry":"t1","kind":"time","hours":1}"#,
      ]
    }
    // Round robin: every ticket's first event, then every ticket's second… so the tickets' last
    // events come in ticket order at the end.
    var document: [String] = []
    for step in 0..<4 {
      for ticket in 0..<tickets { document.append(lines(ticket)[step]) }
    }
    let log = try PartnerSyncLog.inMemory()
    let result = try log.importJSONLines(Array(document.joined(separator: "\n").utf8), now: Ticket.start)
    #expect(result.count == document.count)
    var decisions: [SyncDecision] = []
    var notifications: [PartnerNotification] = []
    for ticket in 0..<tickets {
      let projection = try #require(try log.projection(ticket: "T-\(ticket)"))
      decisions += projection.decisions
      notifications += projection.notifications
    }
    #expect(result.decisionCount == decisions.count && result.decisions.count == decisions.count)
    #expect(result.decisions.map(\.position) == decisions.map(\.position).sorted())
    let differingDecisions = Set(decisions).symmetricDifference(result.decisions)
    #expect(differingDecisions.isEmpty, "\(differingDecisions.count) decisions differ")
    let differingNotifications = Set(notifications).symmetricDifference(result.notifications)
    #expect(
      differingNotifications.isEmpty && result.notifications.count == notifications.count,
      "\(differingNotifications.count) notifications differ")
    // The cache keeps the 1,024 tickets written last, as they were folded.
    let cached = try #require(log.projectionCache.take("T-\(tickets - 1)"))
    #expect(Snapshot(cached) == Snapshot(try #require(try log.projection(ticket: "T-\(tickets - 1)"))))
    #expect(log.projectionCache.take("T-\(tickets - 1_024)") != nil)
    #expect(log.projectionCache.take("T-\(tickets - 1_025)") == nil)
    #expect(log.projectionCache.take("T-0") == nil)
    // Writing on after the import, through a cached ticket and one folded from the log.
    for ticket in [0, tickets - 2] {
      let next = try log.record(
        [
          TicketEvent(
            ticket: "T-\(ticket)", by: "bolt", .entryEdited(entry: "n1", changes: EntryContent(text: "again")))
        ],
        now: Ticket.start)
      #expect(next.decisions.map(\.rule) == [.ownChangeSyncs], "T-\(ticket)")
    }
  }

  /// Replay folds a batch ticket by ticket, not in position order; an event the rules refuse
  /// must still be reported as position order finds it (the first in the log), with exactly the
  /// projections finished before it handed over. Both orders of discovery are covered: the first
  /// refusal in the log found after a later one, and found before a later one (which must not
  /// replace it), with a ticket folded before the refusal is found but finished after it (which
  /// must not be handed over).
  @Test(arguments: [(false, 8192), (true, 8192), (true, 3)] as [(Bool, Int64)])
  func theFirstRefusedEventIsReported(threaded: Bool, chunkSize: Int64) throws {
    func stored(_ ticket: String, _ type: String, by: String, _ data: String = "{}") -> EventRecord {
      EventRecord(stream: ticket, type: type, actor: by, time: 0, data: data)
    }
    let outsourced = #"{"partner":"bolt"}"#
    let histories: [(events: [EventRecord], handed: [String])] = [
      (
        [
          stored("T-a", "outsourced", by: "acme", outsourced),  // 1
          stored("T-c", "outsourced", by: "acme", outsourced),  // 2: T-c ends here
          stored("T-b", "outsourced", by: "acme", outsourced),  // 3
          stored("T-a", "accepted", by: "bolt"),  // 4
          stored("T-b", "accepted", by: "crane"),  // 5: refused, crane is not T-b's partner
          stored("T-d", "outsourced", by: "acme", outsourced),  // 6: T-d ends here
          stored("T-a", "accepted", by: "bolt"),  // 7: refused, accepted twice (T-a is folded first)
        ], ["T-c"]
      ),
      (
        [
          stored("T-z", "outsourced", by: "acme", outsourced),  // 1: folded first
          stored("T-a", "outsourced", by: "acme", outsourced),  // 2
          stored("T-b", "outsourced", by: "acme", outsourced),  // 3
          stored("T-c", "outsourced", by: "acme", outsourced),  // 4: T-c ends here
          stored("T-a", "accepted", by: "crane"),  // 5: refused
          stored("T-z", "accepted", by: "bolt"),  // 6: T-z ends here, after the refusal
          stored("T-b", "accepted", by: "crane"),  // 7: refused too, but later
        ], ["T-c"]
      ),
    ]
    for (index, history) in histories.enumerated() {
      let store = InMemoryEventLog()
      _ = try store.append(history.events)
      let log = PartnerSyncLog(store: store)
      var handed: [String] = []
      do {
        try log.replay(progress: nil, threaded: threaded, chunkSize: chunkSize) { handed.append($0.ticket) }
        Issue.record("the replay of a log with refused events succeeded")
      } catch {
        #expect(error.code == .corruptLog)
        #expect(error.message.contains("position 5"), "history \(index): \(error.message)")
      }
      #expect(handed == history.handed, "history \(index): only the tickets finished before position 5")
    }
  }

  /// An event that cannot be decoded ends the replay there, whichever thread decodes it: an
  /// earlier event the rules refuse is reported first, and a later one is not.
  @Test(arguments: [(false, 8192), (true, 8192), (true, 2)] as [(Bool, Int64)])
  func anUnreadableEventIsReportedInLogOrder(threaded: Bool, chunkSize: Int64) throws {
    func log(unreadableAt unreadable: Int64) throws -> PartnerSyncLog {
      let store = InMemoryEventLog()
      let events: [(String, String, String, String)] = [
        ("T-a", "outsourced", "acme", #"{"partner":"bolt"}"#),  // 1
        ("T-b", "outsourced", "acme", #"{"partner":"bolt"}"#),  // 2
        ("T-a", "accepted", "bolt", "{}"),  // 3
        ("T-c", "outsourced", "acme", #"{"partner":"bolt"}"#),  // 4: T-c ends here
        ("T-b", "accepted", "crane", "{}"),  // 5: refused, crane is not T-b's partner
        ("T-a", "entry-added", "bolt", #"{"entry":"n1","kind":"note"}"#),  // 6
        ("T-a", "entry-added", "bolt", #"{"entry":"n2","kind":"note"}"#),  // 7
      ]
      _ = try store.append(
        events.enumerated().map { index, event in
          // Not a JSON object: the event cannot be read.
          let data = Int64(index + 1) == unreadable ? "[" : event.3
          return EventRecord(stream: event.0, type: event.1, actor: event.2, time: 0, data: data)
        })
      return PartnerSyncLog(store: store)
    }
    for (unreadable, reported, handed) in [(Int64(7), "position 5", ["T-c"]), (3, "position 3", [])] {
      var tickets: [String] = []
      let replayed = try log(unreadableAt: unreadable)
      do {
        try replayed.replay(progress: nil, threaded: threaded, chunkSize: chunkSize) {
          tickets.append($0.ticket)
        }
        Issue.record("the replay of a log with an unreadable event succeeded")
      } catch {
        #expect(error.code == .corruptLog)
        #expect(error.message.contains(reported), "unreadable at \(unreadable): \(error.message)")
      }
      #expect(tickets == handed, "unreadable at \(unreadable)")
    }
  }

  /// Replay's table of recent actors gives each name's own string, for short names, long ones
  /// sharing their first eight bytes and more, more names than it holds, and bytes that are not
  /// UTF-8.
  @Test func recentActorsAreNamedByTheirBytes() {
    var names = ActorNames()
    var texts = ["acme", "bolt", "", "a-partner-with-a-long-name-1", "a-partner-with-a-long-name-2"]
    texts += (0..<20).map { "p\($0)" } + ["acme", "a-partner-with-a-long-name-2", "bolt"]
    var inputs = texts.map { Array($0.utf8) }
    let long = Array("0123456789abcdef\u{FF}".utf8)
    inputs += [[0x61, 0xFF, 0x62], long, long + [0xFF], [0x61, 0xFF, 0x62], long + [0xFF]]
    for _ in 0..<2 {
      for bytes in inputs {
        let name = bytes.withUnsafeBufferPointer { names.name($0) }
        #expect(name == String(decoding: bytes, as: UTF8.self))
      }
    }
  }

  @Test func aFailingBodyStopsTheReplayAndItsReader() throws {
    struct Stop: Error {}
    let (log, _) = try Self.interleavedLog(tickets: 6, length: 30)
    var seen = 0
    #expect(throws: PartnerSyncError.self) {
      try log.replay(progress: nil, threaded: true, chunkSize: 5) { _ in
        seen += 1
        throw Stop()
      }
    }
    #expect(seen == 1)
    // The log is usable afterwards, also from the replay's body.
    var views = 0
    _ = try log.replay(progress: nil, threaded: true, chunkSize: 5) { projection in
      _ = try log.projection(ticket: projection.ticket)
      views += 1
    }
    #expect(views == 6)
  }

  /// What a fold of the whole log in position order hands over, and the message of the first event
  /// it cannot read or the rules refuse (`nil` when there is none): what `replay` must give,
  /// whatever its threads and chunks.
  static func foldInPositionOrder(_ log: PartnerSyncLog) throws -> (handed: [String], failure: String?) {
    var events: [StoredEvent] = []
    try log.store.forEachEvent(from: 1, through: nil) { event in
      events.append(event)
      return true
    }
    var ends: [String: Int64] = [:]
    for event in events { ends[event.stream] = event.position }
    var projections: [String: TicketProjection] = [:]
    var handed: [String] = []
    for event in events {
      do {
        let recorded = try log.decode(event)
        var projection = projections[event.stream] ?? TicketProjection(ticket: event.stream, rules: log.rules)
        do throws(RefusedEvent) {
          try projection.apply(recorded.event, position: event.position)
        } catch {
          return (handed, PartnerSyncLog.refusedOnReplay(error, position: event.position).message)
        }
        projections[event.stream] = projection
        if ends[event.stream] == event.position { handed.append(event.stream) }
      } catch {
        return (handed, error.message)
      }
    }
    return (handed, nil)
  }

  /// Logs damaged at random (data that is not JSON, an unknown type, an acceptance by a stranger)
  /// replay as a fold in position order does: the same projections handed over, in the same
  /// order, and the same first failure, on one thread or several, in chunks of any size.
  @Test func damagedLogsReplayAsAFoldInPositionOrder() throws {
    let (intact, _) = try Self.interleavedLog(tickets: 13, length: 30)
    var stored: [StoredEvent] = []
    try intact.store.forEachEvent(from: 1, through: nil) { event in
      stored.append(event)
      return true
    }
    var rng = SplitMix64(seed: 99)
    var failures = 0
    for trial in 0..<80 {
      var records = stored.map {
        EventRecord(stream: $0.stream, type: $0.type, actor: $0.actor, time: $0.time, data: $0.data)
      }
      for _ in 0..<Int.random(in: 0...3, using: &rng) {
        let at = Int.random(in: 0..<records.count, using: &rng)
        switch Int.random(in: 0..<3, using: &rng) {
        case 0: records[at].data = "["
        case 1: records[at].type = "bogus"
        default: (records[at].type, records[at].actor, records[at].data) = ("accepted", "crane", "{}")
        }
      }
      let store = InMemoryEventLog()
      _ = try store.append(records)
      let log = PartnerSyncLog(store: store)
      let expected = try Self.foldInPositionOrder(log)
      if expected.failure != nil { failures += 1 }
      for (threaded, chunkSize) in [(false, 8192), (true, 1), (true, 5), (true, 64), (true, 8192)] as [(Bool, Int64)] {
        var handed: [String] = []
        var failure: String?
        do {
          try log.replay(progress: nil, threaded: threaded, chunkSize: chunkSize) { handed.append($0.ticket) }
        } catch {
          failure = error.message
        }
        #expect(
          handed == expected.handed && failure == expected.failure,
          "trial \(trial), threaded \(threaded), chunks of \(chunkSize): \(failure ?? "no failure")")
      }
    }
    #expect(failures > 25, "too few damaged logs failed to test the failures")
  }

  /// A log whose reads fail at one position (once it is set).
  final class FailingRead: ForwardingLog, @unchecked Sendable {
    var failAt = Int64.max

    override func forEachEvent(from: Int64, through: Int64?, _ body: (StoredEvent) throws -> Bool) throws {
      try inner.forEachEvent(from: from, through: through) { event in
        if event.position == failAt { throw EventLogError.sqlite(code: 10, message: "disk I/O error") }
        return try body(event)
      }
    }
  }

  /// A read that fails ends the replay with its error, after exactly the projections finished
  /// before it (the events read before it in its chunk are still folded).
  @Test(arguments: [(false, 8192), (true, 8192), (true, 1), (true, 3), (true, 7)] as [(Bool, Int64)])
  func aFailingReadEndsTheReplayAfterTheTicketsFinishedBeforeIt(threaded: Bool, chunkSize: Int64) throws {
    let store = FailingRead()
    let (log, _) = try Self.interleavedLog(tickets: 5, length: 20, store: store)
    var lastPositions: [String: Int64] = [:]
    try store.inner.forEachEvent(from: 1, through: nil) { event in
      lastPositions[event.stream] = event.position
      return true
    }
    // At the first event, and at and just after the last event of each ticket.
    let failures = [1] + lastPositions.values.flatMap { [$0, $0 + 1] }.filter { $0 <= (try? log.lastPosition()) ?? 0 }
    #expect(failures.count > 5)
    for failAt in failures.sorted() {
      store.failAt = failAt
      var handed: [Int64] = []
      do {
        try log.replay(progress: nil, threaded: threaded, chunkSize: chunkSize) { handed.append($0.position) }
        Issue.record("the replay of a log that cannot be read succeeded")
      } catch {
        #expect(error.message.contains("disk I/O error"), "\(error.message)")
      }
      #expect(handed == lastPositions.values.filter { $0 < failAt }.sorted(), "failing at \(failAt)")
    }
  }

  @Test func anEmptyLogReplaysToNothing() throws {
    for log in [PartnerSyncLog(store: InMemoryEventLog()), try PartnerSyncLog.inMemory()] {
      for threaded in [false, true] {
        let summary = try log.replay(progress: nil, threaded: threaded, chunkSize: 3) { _ in
          Issue.record("a projection of an empty log")
        }
        #expect(summary == PartnerSyncLog.ReplaySummary())
      }
    }
  }
}
