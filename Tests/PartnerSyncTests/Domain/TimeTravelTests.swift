import Testing

@testable import PartnerSync
@testable import PartnerSyncDomain

/// Views as of a position or a time equal the views of a log that holds only that prefix.
@Suite("Time travel")
struct TimeTravelTests {
  /// Two tickets, interleaved, each event one minute after the previous one.
  static let history: [TicketEvent] = {
    let t1 = EventBuilder(ticket: "T-1")
    let t2 = EventBuilder(ticket: "T-2")
    return [
      t1.outsourced("bolt", resource: "dana", rate: 80),
      t2.added("m1", by: "bolt", .note, text: "other ticket"),
      t1.added("n1", by: "acme", .note, text: "v1"),
      t1.accepted(),
      t2.outsourced("acme", by: "bolt"),
      t1.added("t1", by: "bolt", .time, hours: 2),
      t1.edited("n1", by: "acme", text: "v2"),
      t1.added("n2", by: "bolt", .note, text: "working"),
      t2.accepted(by: "acme"),
      t1.edited("n1", by: "bolt", text: "bolt's"),
      t1.requested(),
      t1.added("n3", by: "acme", .note, text: "held"),
      t1.rejected(),
      t1.added("t2", by: "bolt", .time, hours: 1),
      t1.requested(),
      t1.added("n4", by: "bolt", .note, text: "dropped"),
      t1.approved(),
      t1.outsourced("crane"),
      t2.added("m2", by: "acme", .note),
      t1.accepted(by: "crane"),
      t1.added("n5", by: "crane", .note),
      t1.deleted("n2", by: "acme"),
    ].enumerated().map { index, event in
      var event = event
      event.at = Ticket.time(of: Int64(index + 1))
      return event
    }
  }()

  static let viewers = ["acme", "bolt", "crane", "zed"]

  static func log(_ events: ArraySlice<TicketEvent>) throws -> PartnerSyncLog {
    let log = try PartnerSyncLog.inMemory()
    try log.record(Array(events), now: Ticket.start)
    return log
  }

  /// A view, or the code of the error that refused it.
  enum Outcome: Equatable {
    case success(TicketView)
    case failure(PartnerSyncError.Code)
  }

  static func outcome(
    _ log: PartnerSyncLog, _ ticket: String, _ partner: String, _ point: PartnerSyncLog.Point,
    engagement: Int? = nil
  ) -> Outcome {
    do {
      return .success(try log.view(ticket: ticket, as: partner, at: point, engagement: engagement))
    } catch {
      return .failure(error.code)
    }
  }

  @Test("a view as of position p equals the latest view of a log of the first p events")
  func asOfPosition() throws {
    let whole = try Self.log(Self.history[...])
    for p in 1...Self.history.count {
      let prefix = try Self.log(Self.history[..<p])
      let at = Int64(p)
      for ticket in ["T-1", "T-2"] {
        for partner in Self.viewers {
          let past = Self.outcome(whole, ticket, partner, .position(at))
          #expect(past == Self.outcome(prefix, ticket, partner, .latest), "\(ticket) \(partner) @\(p)")
          if case .success(let view) = past { #expect(view.position == at) }
        }
        let audit = try? whole.audit(ticket: ticket, at: .position(at))
        #expect(audit == (try? prefix.audit(ticket: ticket)))
      }
      for engagement in 1...2 {
        #expect(
          Self.outcome(whole, "T-1", "bolt", .position(at), engagement: engagement)
            == Self.outcome(prefix, "T-1", "bolt", .latest, engagement: engagement))
      }
    }
  }

  @Test("with times that grow, a view as of a time is the view after the ticket's last event at or before it")
  func asOfTime() throws {
    let whole = try Self.log(Self.history[...])
    for p in 1...Int64(Self.history.count) {
      let exact = Ticket.time(of: p)
      let between = Timestamp(microseconds: exact.microseconds + 30_000_000)
      for partner in Self.viewers {
        // The ticket's own last event at or before that time decides.
        let last = Self.history.indices.last {
          Self.history[$0].ticket == "T-1" && Int64($0 + 1) <= p
        }
        let expected: Outcome =
          last.map { Self.outcome(whole, "T-1", partner, .position(Int64($0 + 1))) }
          ?? .failure(.unknownTicket)
        #expect(Self.outcome(whole, "T-1", partner, .time(exact)) == expected, "\(partner) @\(p)")
        #expect(Self.outcome(whole, "T-1", partner, .time(between)) == expected)
      }
    }
  }

  @Test("as of a time, the view stops before the ticket's first event stamped after it")
  func asOfTimeWithStampsGoingBackwards() throws {
    // bolt's clock runs an hour behind: its note n2 (position 4) is stamped before acme's n1
    // (position 3), and the other ticket's event between them is stamped later than both.
    let lines = """
      {"type":"outsourced","ticket":"T-1","by":"acme","partner":"bolt","at":"2026-03-02T09:00:00Z"}
      {"type":"accepted","ticket":"T-1","by":"bolt","at":"2026-03-02T08:10:00Z"}
      {"type":"entry-added","ticket":"T-1","by":"acme","entry":"n1","kind":"note","at":"2026-03-02T10:00:00Z"}
      {"type":"entry-added","ticket":"T-2","by":"acme","entry":"m1","kind":"note","at":"2026-03-02T12:00:00Z"}
      {"type":"entry-added","ticket":"T-1","by":"bolt","entry":"n2","kind":"note","at":"2026-03-02T09:20:00Z"}
      {"type":"entry-added","ticket":"T-1","by":"acme","entry":"n3","kind":"note","at":"2026-03-02T11:00:00Z"}
      """
    let log = try PartnerSyncLog.inMemory()
    try log.importJSONLines(Array(lines.utf8), now: Ticket.start)
    func view(_ time: String) throws -> (position: Int64, entries: [String]) {
      let view = try log.view(ticket: "T-1", as: "acme", at: .time(try Timestamp.parse(time).get()))
      return (view.position, view.entries.map(\.id))
    }
    // 09:30 is after n2's stamp, but n2 came after n1, stamped 10:00: neither is shown.
    #expect(try view("2026-03-02T09:30:00Z") == (2, []))
    #expect(try view("2026-03-02T09:59:59Z") == (2, []))
    #expect(try view("2026-03-02T10:00:00Z") == (5, ["n1", "n2"]))
    #expect(try view("2026-03-02T10:30:00Z") == (5, ["n1", "n2"]))
    #expect(try view("2026-03-02T11:00:00Z") == (6, ["n1", "n2", "n3"]))
    // Before the ticket's first event (but not before the log's): the ticket did not exist yet.
    do {
      _ = try view("2026-03-02T08:30:00Z")
      Issue.record("a view before the ticket's first event was shown")
    } catch let error as PartnerSyncError {
      #expect(error.code == .unknownTicket)
      #expect(error.message.contains("did not exist yet"), "\(error.message)")
    }
    // Before the log's first event (08:10): outside the log.
    #expect(
      Self.outcome(log, "T-1", "acme", .time(try Timestamp.parse("2026-03-02T08:00:00Z").get()))
        == .failure(.outOfRange))
    // The same point for an audit.
    #expect(try log.audit(ticket: "T-1", at: .time(try Timestamp.parse("2026-03-02T09:30:00Z").get())).isEmpty)
  }

  @Test("as of the waiting position, the held changes are not yet on the other side")
  func heldAsOfPosition() throws {
    let lines = """
      {"type":"outsourced","ticket":"T-1","by":"acme","partner":"bolt","resource":"dana"}
      {"type":"accepted","ticket":"T-1","by":"bolt"}
      {"type":"entry-added","ticket":"T-1","by":"bolt","entry":"n1","kind":"note","text":"Work done"}
      {"type":"completion-requested","ticket":"T-1","by":"bolt"}
      {"type":"entry-added","ticket":"T-1","by":"bolt","entry":"n2","kind":"note","text":"Photo"}
      {"type":"entry-added","ticket":"T-1","by":"acme","entry":"n3","kind":"note","text":"Add a photo"}
      {"type":"completion-rejected","ticket":"T-1","by":"acme","reason":"Missing photo"}
      """
    let log = try PartnerSyncLog.inMemory()
    try log.importJSONLines(Array(lines.utf8), now: Ticket.start)
    let lead = try log.view(ticket: "T-1", as: "acme", at: .position(6))
    #expect(lead.status == .waitingApproval && lead.entries.map(\.id) == ["n1", "n3"])
    #expect(try log.view(ticket: "T-1", as: "bolt", at: .position(6)).entries.map(\.id) == ["n1", "n2"])
    #expect(try log.view(ticket: "T-1", as: "acme").entries.map(\.id) == ["n1", "n3", "n2"])
    #expect(try log.view(ticket: "T-1", as: "bolt").entries.map(\.id) == ["n1", "n2", "n3"])
    #expect(
      try log.audit(ticket: "T-1", entry: "n2", at: .position(6)).map(\.brief) == [
        "5 n2 bolt>acme held suspended-waiting-approval"
      ])
  }

  @Test("a time before the log, or a position outside it, is out of range")
  func outOfRange() throws {
    let whole = try Self.log(Self.history[...])
    let before = Timestamp(microseconds: Ticket.start.microseconds - 1)
    #expect(Self.outcome(whole, "T-1", "acme", .time(before)) == .failure(.outOfRange))
    #expect(Self.outcome(whole, "T-1", "acme", .position(0)) == .failure(.outOfRange))
    let past = Int64(Self.history.count + 1)
    #expect(Self.outcome(whole, "T-1", "acme", .position(past)) == .failure(.outOfRange))
    #expect(Self.outcome(whole, "T-1", "crane", .position(17)) == .failure(.unknownPartner))
    #expect(Self.outcome(whole, "T-2", "acme", .position(1)) == .failure(.unknownTicket))
  }

  @Test("the log's views and audit agree with the projection fed event by event")
  func logAgreesWithProjection() throws {
    let whole = try Self.log(Self.history[...])
    var t = try Ticket()
    for event in Self.history where event.ticket == "T-1" { try t.apply(event) }
    let projection = try #require(try whole.projection(ticket: "T-1"))
    #expect(projection.decisions.map(\.rule) == t.projection.decisions.map(\.rule))
    #expect(projection.decisions.map(\.entry) == t.projection.decisions.map(\.entry))
    for partner in ["acme", "bolt", "crane"] {
      #expect(
        try whole.view(ticket: "T-1", as: partner).entries == t.view(partner).entries)
    }
    #expect(try whole.notifications(ticket: "T-1").map(\.rule) == t.projection.notifications.map(\.rule))
  }
}
