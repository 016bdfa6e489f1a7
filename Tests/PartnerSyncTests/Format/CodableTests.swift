import Foundation
import Testing

@testable import PartnerSync
@testable import PartnerSyncDomain

/// `Codable` for events, views, decisions and notifications: values survive `JSONEncoder` and
/// `JSONDecoder`, in the shapes of the contract's JSON.
@Suite struct CodableTests {
  static let encoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return encoder
  }()

  /// `value` encoded, then decoded again.
  static func roundTrip<T: Codable>(_ value: T) throws -> T {
    try JSONDecoder().decode(T.self, from: try encoder.encode(value))
  }

  /// `value` encoded, as the domain's JSON value (member order aside, equal to the contract's).
  static func encoded<T: Encodable>(_ value: T) throws -> JSONValue {
    try JSONParser.parse(Array(try encoder.encode(value)))
  }

  /// `object` without the members named `keys`.
  static func removing(_ keys: [String], from object: JSONValue) -> JSONValue {
    guard case .object(let members) = object else { return object }
    return .object(members.filter { !keys.contains($0.key) })
  }

  /// Every value of 40 random histories survives a round trip, and encodes as the contract's
  /// JSON (a decision with the facts of its sentence besides).
  @Test(arguments: 0..<4)
  func randomHistoriesSurviveARoundTrip(chunk: Int) throws {
    for index in 0..<10 {
      let history = try PropertyTests.history(seed: PropertyTests.seed(chunk: 50 + chunk, index: index))
      for recorded in history.ticket.recorded {
        #expect(try Self.roundTrip(recorded) == recorded)
        #expect(try Self.roundTrip(recorded.event) == recorded.event)
        var timeless = recorded.event
        timeless.at = nil
        #expect(try Self.roundTrip(timeless) == timeless)
        #expect(try Self.encoded(recorded.event) == JSONParser.parse(recorded.event.jsonLine))
        #expect(
          try Self.removing(["version"], from: Self.encoded(recorded)) == JSONParser.parse(recorded.exportLine))
      }
      let last = try #require(history.snapshots.last)
      for snapshot in [history.snapshots[history.snapshots.count / 2], last] {
        for view in snapshot.views {
          #expect(try Self.roundTrip(view) == view)
          #expect(try Self.encoded(view) == view.json)
        }
      }
      for decision in last.decisions {
        #expect(try Self.roundTrip(decision) == decision)
        #expect(try Self.removing(SyncDecision.factMembers, from: Self.encoded(decision)) == decision.json)
      }
      for notification in last.notifications {
        #expect(try Self.roundTrip(notification) == notification)
        #expect(try Self.encoded(notification) == notification.json)
      }
      #expect(try Self.roundTrip(last.decisions) == last.decisions)
    }
  }

  /// What the command line prints (the same JSON as `view.json` and friends) decodes with
  /// `JSONDecoder` into the values the library returns.
  @Test func theContractsJSONDecodes() throws {
    let log = try PartnerSyncLog.inMemory()
    let start = Timestamp(rfc3339: "2026-03-02T09:00:00Z")!
    try log.record(
      [
        TicketEvent(ticket: "T-1", by: "acme", .outsourced(Outsourcing(partner: "bolt", resource: "dana", rate: 90))),
        TicketEvent(
          ticket: "T-1", by: "acme", .entryAdded(entry: "t0", content: EntryContent(kind: .time, hours: 0.5))),
        TicketEvent(ticket: "T-1", by: "bolt", .accepted),
        TicketEvent(
          ticket: "T-1", by: "bolt",
          .entryAdded(entry: "n1", content: EntryContent(kind: .note, title: "On site", text: "Replaced it"))),
        TicketEvent(
          ticket: "T-1", by: "bolt", .entryAdded(entry: "t1", content: EntryContent(kind: .time, hours: 2))),
        TicketEvent(ticket: "T-1", by: "bolt", .completionRequested),
        TicketEvent(ticket: "T-1", by: "acme", .completionApproved),
      ], now: start)
    let decoder = JSONDecoder()
    for partner in ["acme", "bolt"] {
      let view = try log.view(ticket: "T-1", as: partner)
      #expect(try decoder.decode(TicketView.self, from: Data(view.json.jsonText.utf8)) == view)
    }
    let lead = try log.view(ticket: "T-1", as: "acme")
    #expect(lead.entries.contains { $0.system } && lead.entries.contains { $0.isCopy })
    let before = try log.view(ticket: "T-1", as: "acme", at: .position(1))
    #expect(before.engagement == 1 && before.status == .assigned)

    struct Outbox: Decodable { var notifications: [PartnerNotification] }
    let notifications = try log.notifications()
    let outbox = JSONValue.object([("notifications", .array(notifications.map(\.json)))])
    #expect(try decoder.decode(Outbox.self, from: Data(outbox.jsonText.utf8)).notifications == notifications)

    var exported: [RecordedEvent] = []
    try log.forEachEvent { exported.append($0) }
    for recorded in exported {
      #expect(try decoder.decode(TicketEvent.self, from: Data(recorded.exportLine.utf8)) == recorded.event)
    }

    // The audit's decisions are the contract's objects plus the facts of their sentences.
    let decisions = try log.audit(ticket: "T-1")
    for decision in decisions {
      let object = try Self.encoded(decision)
      #expect(Self.removing(SyncDecision.factMembers, from: object) == decision.json)
      #expect(object["because"]?.stringValue == decision.because)
    }
  }

  /// A view without an engagement encodes `engagement` as `null` and `status` as `none`.
  @Test func aViewWithoutAnEngagement() throws {
    var ticket = try Ticket()
    try ticket.run(EventBuilder().added("n1", by: "acme", .note))
    let view = try ticket.view("acme")
    #expect(view.engagement == nil && view.status == nil)
    let object = try Self.encoded(view)
    #expect(object["engagement"] == JSONValue.null)
    #expect(object["status"] == "none")
    #expect(try Self.roundTrip(view) == view)
  }

  @Test func timestampsEncodeAsRFC3339Strings() throws {
    let time = try #require(Timestamp(rfc3339: "2026-03-02T09:00:00.25+02:00"))
    #expect(String(decoding: try Self.encoder.encode([time]), as: UTF8.self) == #"["2026-03-02T07:00:00.25Z"]"#)
    #expect(try JSONDecoder().decode([Timestamp].self, from: Data(#"["2026-03-02T09:00:00.25+02:00"]"#.utf8)) == [time])
    #expect(throws: DecodingError.self) {
      try JSONDecoder().decode([Timestamp].self, from: Data(#"["2026-13-02T09:00:00Z"]"#.utf8))
    }
  }

  @Test func malformedEventsAreRefused() throws {
    let decoder = JSONDecoder()
    for line in [
      #"{"type":"shipped","ticket":"T-1","by":"acme"}"#,
      #"{"type":"outsourced","ticket":"T-1","by":"acme"}"#,
      #"{"type":"entry-added","ticket":"T-1","by":"acme","entry":"n1"}"#,
      #"{"type":"accepted","by":"bolt"}"#,
      #"{"type":"accepted","ticket":"T-1","by":"bolt","at":"yesterday"}"#,
      #"{"type":"entry-added","ticket":"T-1","by":"acme","entry":"n1","kind":"note","hours":"two"}"#,
    ] {
      #expect(throws: DecodingError.self, "\(line)") { try decoder.decode(TicketEvent.self, from: Data(line.utf8)) }
    }
    // An edit's changes carry no kind, as in the event format.
    let edit = TicketEvent(
      ticket: "T-1", by: "acme", .entryEdited(entry: "n1", changes: EntryContent(kind: .note, text: "x")))
    #expect(try Self.encoded(edit)["kind"] == nil)
  }

  @Test func timestampsAndDates() throws {
    let time = try #require(Timestamp(rfc3339: "2026-03-02T09:00:00.123456Z"))
    #expect(time.date == Date(timeIntervalSince1970: 1_772_442_000.123456))
    #expect(Timestamp(time.date) == time)
    #expect(Timestamp(Date(timeIntervalSince1970: 0)) == Timestamp(microseconds: 0))
    #expect(Timestamp(Date(timeIntervalSince1970: -1.5)) == Timestamp(microseconds: -1_500_000))
    #expect(Timestamp(Date(timeIntervalSince1970: 1e300)) == Timestamp(microseconds: .max))
    #expect(Timestamp(Date(timeIntervalSince1970: -1e300)) == Timestamp(microseconds: .min))
    var rng = SplitMix64(seed: 42)
    // Every microsecond from 1866 to 2136 comes back from its date.
    let range =
      Timestamp(rfc3339: "1866-01-01T00:00:00Z")!
      .microseconds...Timestamp(rfc3339: "2137-01-01T00:00:00Z")!
      .microseconds
    for _ in 0..<100_000 {
      let time = Timestamp(microseconds: Int64.random(in: range, using: &rng))
      #expect(Timestamp(time.date) == time)
    }
    let now = Date()
    #expect(abs(Timestamp(now).date.timeIntervalSince(now)) <= 0.000_001)
  }
}
