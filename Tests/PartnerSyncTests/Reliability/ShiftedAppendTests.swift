import EventLog
import EventLogTesting
import Foundation
import Testing

@testable import PartnerSync
@testable import PartnerSyncDomain

/// A log that writes a batch elsewhere than it announced to the producer: another writer's event
/// lands first. `PartnerSyncLog` must then report the decisions at the positions the events got.
@Suite struct ShiftedAppendTests {
  /// An in-memory log whose streaming append collects the events, appends one event of its own
  /// (stream `other`), and only then the batch: one position later than announced.
  final class ShiftingLog: ForwardingLog, @unchecked Sendable {
    override func append(
      expectedVersions: [String: Int64], _ produce: (EventAppender) throws -> Void
    ) throws -> AppendResult {
      var records: [EventRecord] = []
      try produce(EventAppender(firstPosition: try inner.lastPosition() + 1) { records.append($0) })
      _ = try inner.append(
        [EventRecord(stream: "other", type: "noted", actor: "someone", time: 0, data: "{}")],
        expectedVersions: [:])
      return try inner.append(records, expectedVersions: expectedVersions)
    }
  }

  @Test(arguments: [3, 1_500])
  func decisionsAreReportedWhereTheEventsLanded(tickets: Int) throws {
    let store = ShiftingLog()
    let log = PartnerSyncLog(store: store)
    var lines: [String] = []
    for step in 0..<3 {
      for ticket in 0..<tickets {
        lines.append(
          [
            #"{"type":"outsourced","ticket":"T-\#(ticket)","by":"acme","partner":"bolt"}"#,
            #"{"type":"accepted","ticket":"T-\#(ticket)","by":"bolt"}"#,
            #"{"type":"entry-added","ticket":"T-\#(ticket)","by":"bolt","entry":"n1","kind":"note","text":"x"}"#,
          ][step])
      }
    }
    let result = try log.importJSONLines(Array(lines.joined(separator: "\n").utf8), now: Ticket.start)
    #expect(result.firstPosition == 2, "the other writer's event came first")
    #expect(result.count == lines.count)
    var expected: [SyncDecision] = []
    for ticket in 0..<tickets {
      expected += try #require(try log.projection(ticket: "T-\(ticket)")).decisions
    }
    #expect(result.decisions.count == expected.count && result.decisionCount == expected.count)
    let misplaced = Set(expected).symmetricDifference(result.decisions)
    #expect(misplaced.isEmpty, "\(misplaced.count) decisions not at the positions the events got")
    #expect(result.decisions.allSatisfy { $0.position >= 2 })
    // The projections kept for the next write match the log.
    let next = try log.record(
      [TicketEvent(ticket: "T-0", by: "bolt", .entryEdited(entry: "n1", changes: EntryContent(text: "y")))],
      now: Ticket.start)
    #expect(next.decisions.map(\.rule) == [.ownChangeSyncs])
  }
}
