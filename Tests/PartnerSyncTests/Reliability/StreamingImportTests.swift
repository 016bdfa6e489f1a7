import EventLog
import Foundation
import Testing

@testable import PartnerSync
@testable import PartnerSyncDomain

/// An import parses and validates a document line by line while the log writes the events a
/// chunk at a time on a thread of its own. Which line it reports, and that it appends nothing,
/// must not depend on where the chunks fall.
@Suite struct StreamingImportTests {
  /// A document of `tickets` tickets, each outsourced, accepted and given `notes` notes by the
  /// partner, round robin (so that every chunk holds events of every ticket).
  static func lines(tickets: Int, notes: Int) -> [String] {
    var lines: [String] = []
    for ticket in 0..<tickets {
      lines.append(#"{"type":"outsourced","ticket":"T-\#(ticket)","by":"acme","partner":"bolt"}"#)
    }
    for ticket in 0..<tickets {
      lines.append(#"{"type":"accepted","ticket":"T-\#(ticket)","by":"bolt"}"#)
    }
    for note in 0..<notes {
      for ticket in 0..<tickets {
        lines.append(
          #"{"type":"entry-added","ticket":"T-\#(ticket)","by":"bolt","entry":"n\#(note)","kind":"note","text":"note \#(note)"}"#
        )
      }
    }
    return lines
  }

  /// A fresh SQLite log in a temporary directory (its streaming append writes on a thread of its
  /// own), holding one ticket already.
  static func withLog(_ body: (PartnerSyncLog) throws -> Void) throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("import-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let log = try PartnerSyncLog.open(path: directory.appendingPathComponent("log.sqlite").path, create: true)
    try log.importJSONLines(
      Array(#"{"type":"outsourced","ticket":"T-old","by":"acme","partner":"bolt"}"#.utf8), now: Ticket.start)
    try body(log)
  }

  struct Damage: CustomTestStringConvertible, Sendable {
    /// The line turned into an event the rules refuse, if any.
    var refused: Int?
    /// The line turned into one that is not JSON, if any.
    var broken: Int?
    /// The line the import must report.
    var reported: Int
    var testDescription: String {
      "refused \(refused.map(String.init) ?? "none"), broken \(broken.map(String.init) ?? "none")"
    }
  }

  /// Lines far apart, in the first chunk that SQLite's log writes and chunks after it (it writes
  /// 1,024 events at a time).
  static let damages = [
    Damage(refused: 10, broken: 5_000, reported: 5_000),
    Damage(refused: 5_000, broken: 10, reported: 10),
    Damage(refused: 10, broken: nil, reported: 10),
    Damage(refused: 6_500, broken: nil, reported: 6_500),
    Damage(refused: nil, broken: 4_097, reported: 4_097),
    Damage(refused: 6_000, broken: 6_001, reported: 6_001),
  ]

  @Test("a line that is not an event is reported before any refused event, and nothing is appended", arguments: damages)
  func theFirstBadLineIsReported(_ damage: Damage) throws {
    try Self.withLog { log in
      var lines = Self.lines(tickets: 50, notes: 150)
      #expect(lines.count > 6 * 1_024)
      if let refused = damage.refused {
        // A ticket cannot begin with an acceptance.
        lines[refused - 1] = #"{"type":"accepted","ticket":"T-new","by":"bolt"}"#
      }
      if let broken = damage.broken { lines[broken - 1] = #"{"type":"entry-added","ticket":"# }
      let before = try log.lastPosition()
      do {
        try log.importJSONLines(Array(lines.joined(separator: "\n").utf8), now: Ticket.start)
        Issue.record("the document was imported")
      } catch let error as PartnerSyncError {
        #expect(error.code == .invalidEvent)
        #expect(error.line == damage.reported, "\(error.message)")
      }
      #expect(try log.lastPosition() == before, "nothing is appended")
      // No projection the failed import folded is left in the cache.
      for ticket in 0..<50 {
        #expect(log.projectionCache.take("T-\(ticket)") == nil, "T-\(ticket) is cached")
      }
      // The tickets the failed import had folded are not left half-changed in the cache.
      let result = try log.importJSONLines(
        Array(Self.lines(tickets: 50, notes: 150).joined(separator: "\n").utf8), now: Ticket.start)
      #expect(result.count == 50 * 152)
      #expect(try log.projection(ticket: "T-0")?.version == 152)
    }
  }

  @Test("a ticket is one ticket however its name is written, in either half of a large document")
  func ticketNamesAreReadAsTheParserReadsThem() throws {
    var lines = Self.lines(tickets: 40, notes: 300)
    // Escaped names (which the line finder reads through the parser), other member orders and
    // spacing.
    for index in stride(from: lines.count - 1, to: 0, by: -97) {
      lines[index] = lines[index].replacingOccurrences(of: #""ticket":"T-"#, with: #""ticket":"T\u002d"#)
    }
    for index in stride(from: 7, to: lines.count, by: 89) where lines[index].contains("entry-added") {
      let ticket = lines[index].split(separator: "\"")[7]
      let note = lines[index].split(separator: "\"")[15]
      lines[index] =
        #"{ "entry" : "\#(note)", "kind":"note", "by":"bolt", "ticket":"\#(ticket)", "type":"entry-added", "text":"moved" }"#
    }
    // The word ticket elsewhere before the ticket: as a value, and quoted inside a text.
    for index in stride(from: 11, to: lines.count, by: 83)
    where lines[index].hasPrefix(#"{"type":"entry-added","ticket":"T-"#) {
      let ticket = lines[index].split(separator: "\"")[7]
      let note = lines[index].split(separator: "\"")[15]
      lines[index] =
        index % 2 == 0
        ? #"{"title":"ticket","text":"say \"ticket\":\"T-999\" \\","entry":"\#(note)","kind":"note","type":"entry-added","by":"bolt","ticket" :\#t"\#(ticket)"}"#
        : #"{"text":"ticket", "entry":"\#(note)","kind":"note","type":"entry-added","by":"bolt","ticket":"\#(ticket)"}"#
    }
    let bytes = Array(lines.joined(separator: "\r\n").utf8)
    #expect(bytes.count >= DocumentLines.parallelBytes, "the lines are found in two halves")
    let document = bytes.withUnsafeBufferPointer { DocumentLines(DocumentBytes(buffer: $0)) }
    #expect(document.lines.count == lines.count && document.tickets.count == 40)
    #expect(document.lines.allSatisfy { $0.ticket >= 0 })
    let parsed = try EventLines.parse(bytes)
    let mismatch = zip(parsed, document.lines).first { $0.0.event.ticket != document.tickets[Int($0.1.ticket)] }
    #expect(mismatch == nil, "line \(mismatch?.1.number ?? 0) names another ticket")
    for (slot, last) in document.lastLine.enumerated() {
      #expect(document.lines[last...].dropFirst().allSatisfy { Int($0.ticket) != slot })
    }
    // Imported, the tickets are what recording the same events gives.
    let imported = try PartnerSyncLog.inMemory()
    let result = try imported.importJSONLines(bytes, now: Ticket.start)
    let recorded = try PartnerSyncLog.inMemory()
    let expected = try recorded.record(parsed.map(\.event), now: Ticket.start)
    #expect(result.count == parsed.count)
    #expect(result.decisions == expected.decisions && result.notifications == expected.notifications)
    for ticket in 0..<40 {
      let one = try #require(try imported.projection(ticket: "T-\(ticket)"))
      let other = try #require(try recorded.projection(ticket: "T-\(ticket)"))
      #expect(Snapshot(one) == Snapshot(other), "T-\(ticket)")
    }
  }

  @Test("an import reports the decisions and notifications its events took, or only counts them")
  func theResultListsOrCountsTheDecisions() throws {
    let bytes = Array(Self.lines(tickets: 30, notes: 40).joined(separator: "\n").utf8)
    let events = try EventLines.parse(bytes).map(\.event)
    let expected = try PartnerSyncLog.inMemory().record(events, now: Ticket.start)
    #expect(!expected.decisions.isEmpty && !expected.notifications.isEmpty)
    for keeping in [true, false] {
      try Self.withLog { log in
        let result = try log.importJSONLines(bytes, now: Ticket.start, keepingDecisions: keeping)
        #expect(result.firstPosition == 2 && result.count == events.count)
        #expect(result.decisionCount == expected.decisions.count)
        #expect(result.notificationCount == expected.notifications.count)
        guard keeping else {
          #expect(result.decisions.isEmpty && result.notifications.isEmpty)
          return
        }
        // One position later than recorded into an empty log: T-old came first.
        let unshifted = result.decisions.map {
          var decision = $0
          decision.position -= 1
          return decision
        }
        #expect(unshifted == expected.decisions)
        #expect(result.notifications.map(\.position) == expected.notifications.map { $0.position + 1 })
      }
    }
  }

  /// An import that only counts folds the tickets the cache will not keep without keeping their
  /// decisions: it counts what an import that lists them counts, notifications of every rule
  /// included, also for tickets with a history before it, and keeps complete projections.
  @Test("an import of more tickets than the cache counts as one that lists, and caches complete projections")
  func countingImportOfManyTickets() throws {
    let tickets = 1_100
    func steps(_ ticket: Int) -> [String] {
      let t = "\"ticket\":\"T-\(ticket)\""
      return [
        #"{"type":"outsourced",\#(t),"by":"acme","partner":"bolt","resource":"dana"}"#,
        #"{"type":"accepted",\#(t),"by":"bolt"}"#,
        #"{"type":"entry-added",\#(t),"by":"bolt","entry":"n1","kind":"note","text":"seen"}"#,
        #"{"type":"entry-added",\#(t),"by":"bolt","entry":"t1","kind":"time","hours":1}"#,
        #"{"type":"entry-added",\#(t),"by":"acme","entry":"t2","kind":"time","hours":2}"#,
        #"{"type":"completion-requested",\#(t),"by":"bolt"}"#,
        #"{"type":"entry-added",\#(t),"by":"bolt","entry":"n2","kind":"note","text":"late"}"#,
        #"{"type":"completion-rejected",\#(t),"by":"acme","reason":"more"}"#,
        #"{"type":"completed",\#(t),"by":"acme"}"#,
        #"{"type":"entry-added",\#(t),"by":"acme","entry":"n3","kind":"note","text":"after"}"#,
      ]
    }
    // Round robin, so that the tickets finish in ticket order; the second import adds to every
    // ticket of the first.
    let all = (0..<tickets).map(steps)
    var first: [String] = []
    var second: [String] = []
    for step in 0..<10 {
      for ticket in 0..<tickets { (step < 7 ? { first.append($0) } : { second.append($0) })(all[ticket][step]) }
    }
    let listing = try PartnerSyncLog.inMemory()
    let counting = try PartnerSyncLog.inMemory()
    var rules: Set<RuleID> = []
    for document in [first, second] {
      let bytes = Array(document.joined(separator: "\n").utf8)
      let listed = try listing.importJSONLines(bytes, now: Ticket.start, keepingDecisions: true)
      let counted = try counting.importJSONLines(bytes, now: Ticket.start, keepingDecisions: false)
      #expect(listed.decisions.count == listed.decisionCount && listed.decisionCount > document.count / 2)
      rules.formUnion(listed.notifications.map(\.rule))
      #expect(counted.decisionCount == listed.decisionCount)
      #expect(counted.notificationCount == listed.notificationCount)
    }
    #expect(rules.count == 3, "every rule that notifies, notified")
    // The cache holds the tickets finished last, complete, as the log folds them.
    for ticket in [tickets - 1, tickets - 1_024] {
      let cached = try #require(counting.projectionCache.take("T-\(ticket)"))
      #expect(!cached.decisions.isEmpty)
      #expect(Snapshot(cached) == Snapshot(try #require(try counting.projection(ticket: "T-\(ticket)"))))
    }
    #expect(counting.projectionCache.take("T-\(tickets - 1_025)") == nil)
  }

  /// A log whose appends fail: the log's error, not the input's.
  final class FailingLog: ForwardingLog, @unchecked Sendable {
    override func append(_ events: [EventRecord], expectedVersions: [String: Int64]) throws -> AppendResult {
      throw EventLogError.sqlite(code: 10, message: "disk I/O error: the disk failed")
    }
    override func append(
      expectedVersions: [String: Int64], _ produce: (EventAppender) throws -> Void
    ) throws -> AppendResult {
      throw EventLogError.sqlite(code: 10, message: "disk I/O error: the disk failed")
    }
  }

  /// The error of importing `lines` into `log`, which must fail.
  static func importError(_ lines: [String], into log: PartnerSyncLog) -> PartnerSyncError? {
    do {
      try log.importJSONLines(Array(lines.joined(separator: "\n").utf8), now: Ticket.start)
      Issue.record("the document was imported")
      return nil
    } catch {
      return error
    }
  }

  @Test("a line that is not an event is reported before an error of the log")
  func aBadLineComesBeforeTheLogsError() throws {
    let log = PartnerSyncLog(store: FailingLog())
    var lines = Self.lines(tickets: 20, notes: 100)
    lines[1_999] = "{not json"
    let bad = Self.importError(lines, into: log)
    #expect(bad?.code == .invalidEvent && bad?.line == 2_000, "\(bad?.message ?? "")")
    // Without a bad line, the log's error.
    let failed = Self.importError(Self.lines(tickets: 2, notes: 1), into: log)
    #expect(failed?.code == .storage && failed?.message.contains("the disk failed") == true, "\(failed?.message ?? "")")
  }

  /// A log that another writer keeps locked.
  final class BusyLog: ForwardingLog, @unchecked Sendable {
    override func append(
      expectedVersions: [String: Int64], _ produce: (EventAppender) throws -> Void
    ) throws -> AppendResult {
      throw EventLogError.busy(path: "busy.sqlite")
    }
  }

  @Test("on a log that stays busy, an event the rules refuse is reported, as the thing to fix")
  func aRefusedEventComesBeforeABusyLog() throws {
    let log = PartnerSyncLog(store: BusyLog())
    var lines = Self.lines(tickets: 20, notes: 100)
    lines[1_499] = #"{"type":"accepted","ticket":"T-new","by":"bolt"}"#
    let refused = Self.importError(lines, into: log)
    #expect(refused?.code == .invalidEvent && refused?.line == 1_500, "\(refused?.message ?? "")")
    #expect(Self.importError(Self.lines(tickets: 2, notes: 1), into: log)?.code == .busy)
  }
}
