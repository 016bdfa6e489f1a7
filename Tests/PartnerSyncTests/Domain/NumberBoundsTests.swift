import Testing

@testable import PartnerSync
@testable import PartnerSyncDomain

/// The bounds of `hours`, `rate` and `amount` (``NumberField``): in the rules, through the
/// library's `record`, and through an import.
@Suite("Number bounds")
struct NumberBoundsTests {
  static let hoursCases: [(Double, Bool)] = [
    (1, true), (10_000, true), (0.25, true), (.leastNonzeroMagnitude, true), (10_000.0001, false),
    ((10_000 as Double).nextUp, false), (0, false), (-0.0, false), (-1, false), (1e12, false),
    (.infinity, false), (-.infinity, false), (.nan, false),
  ]

  static let rateCases: [(Double, Bool)] = [
    (0, true), (-0.0, true), (95.5, true), (1e9, true), ((1e9 as Double).nextUp, false), (1e9 + 1, false),
    (-0.01, false), (-1e9, false), (.infinity, false), (.nan, false),
  ]

  static let amountCases: [(Double, Bool)] = [
    (0, true), (-0.0, true), (12.5, true), (-12.5, true), (1e9, true), (-1e9, true),
    ((1e9 as Double).nextUp, false), ((-1e9 as Double).nextDown, false), (1e300, false),
    (.infinity, false), (-.infinity, false), (.nan, false),
  ]

  @Test("hours: greater than 0 and at most 10000", arguments: hoursCases)
  func hours(_ value: Double, _ allowed: Bool) throws {
    #expect(NumberField.hours.allows(value) == allowed)
    var t = try Ticket([ev.outsourced("bolt"), ev.accepted(), ev.added("t1", by: "bolt", .time, hours: 1)])
    let added = ev.added("t2", by: "bolt", .time, hours: value)
    let edited = ev.edited("t1", by: "bolt", hours: value)
    if allowed {
      try t.run(added, edited)
      #expect(try t.entry("t2", of: "bolt")?.content.hours == value)
    } else {
      for event in [added, edited] {
        let reason = t.refuse(event) ?? ""
        #expect(reason.contains("'hours' must be a number greater than 0 and at most 10000"), "\(reason)")
      }
    }
  }

  @Test("rate: from 0 to 10^9", arguments: rateCases)
  func rate(_ value: Double, _ allowed: Bool) throws {
    #expect(NumberField.rate.allows(value) == allowed)
    // The ticket's first event and a later outsourcing are checked alike.
    for prefix in [[], [ev.outsourced("bolt"), ev.declined()]] as [[TicketEvent]] {
      var t = try Ticket(prefix)
      if allowed {
        try t.run(ev.outsourced("crane", rate: value))
      } else {
        let reason = t.refuse(ev.outsourced("crane", rate: value)) ?? ""
        #expect(reason.contains("'rate' must be a number from 0 to 1000000000 (not negative)"), "\(reason)")
      }
    }
  }

  @Test("amount: from -10^9 to 10^9", arguments: amountCases)
  func amount(_ value: Double, _ allowed: Bool) throws {
    #expect(NumberField.amount.allows(value) == allowed)
    var t = try Ticket([ev.outsourced("bolt"), ev.accepted(), ev.added("c1", by: "bolt", .charge, amount: 5)])
    let added = ev.added("c2", by: "bolt", .charge, amount: value)
    let edited = ev.edited("c1", by: "bolt", amount: value)
    if allowed {
      try t.run(added, edited)
    } else {
      for event in [added, edited] {
        let reason = t.refuse(event) ?? ""
        #expect(reason.contains("'amount' must be a number from -1000000000 to 1000000000"), "\(reason)")
      }
    }
  }

  @Test("the library's record refuses a number out of bounds and appends nothing")
  func recordRefuses() throws {
    let log = try PartnerSyncLog.inMemory()
    let start = Ticket.start
    try log.record([ev.outsourced("bolt", rate: 80), ev.accepted()], now: start)
    for (event, words) in [
      (
        ev.added("t1", by: "bolt", .time, hours: .infinity),
        "'hours' must be a number greater than 0 and at most 10000, found infinity"
      ),
      (ev.added("t1", by: "bolt", .time, hours: 10_000.0001), "found 10000.0001"),
      (
        ev.added("c1", by: "bolt", .charge, amount: -.infinity),
        "'amount' must be a number from -1000000000 to 1000000000, found -infinity"
      ),
      (ev.added("c1", by: "bolt", .charge, amount: .nan), "found NaN"),
    ] {
      do {
        try log.record([ev.added("ok", by: "bolt", .note), event], now: start)
        Issue.record("\(event) was recorded")
      } catch {
        #expect(error.code == .invalidEvent)
        #expect(error.line == 2)
        #expect(error.message.contains(words), "\(error.message)")
      }
      #expect(try log.lastPosition() == 2)
    }
  }

  @Test("an import refuses a number beyond a Double in the words of its field's bounds")
  func importRefusesHugeNumbers() throws {
    let head = """
      {"type":"outsourced","ticket":"T-1","by":"acme","partner":"bolt"}
      {"type":"accepted","ticket":"T-1","by":"bolt"}

      """
    let cases: [(String, String)] = [
      (
        #""entry":"t1","kind":"time","hours":1e400"#,
        "field 'hours' must be a number greater than 0 and at most 10000, found 1e400"
      ),
      (
        #""entry":"t1","kind":"time","hours" : -1.5E+999"#,
        "field 'hours' must be a number greater than 0 and at most 10000, found -1.5E+999"
      ),
      (
        #""entry":"c1","kind":"charge","amount":-1e400"#,
        "field 'amount' must be a number from -1000000000 to 1000000000, found -1e400"
      ),
      (
        #""entry":"t1","kind":"time","hours":10000.0001"#,
        "entry 't1': 'hours' must be a number greater than 0 and at most 10000, found 10000.0001"
      ),
      (#""entry":"c1","kind":"charge","amount":123456789012345678901234567890"#, "found 1.2345678901234568e+29"),
    ]
    for (fields, words) in cases {
      let log = try PartnerSyncLog.inMemory()
      let line = #"{"type":"entry-added","ticket":"T-1","by":"bolt",\#(fields)}"#
      do {
        try log.importJSONLines(Array((head + line).utf8), now: Ticket.start)
        Issue.record("\(line) was imported")
      } catch {
        #expect(error.code == .invalidEvent)
        #expect(error.line == 3)
        #expect(error.message.contains(words), "\(error.message)")
      }
      #expect(try log.lastPosition() == 0)
    }
    // A rate beyond a Double, on the ticket's first line.
    let log = try PartnerSyncLog.inMemory()
    do {
      try log.importJSONLines(
        Array(#"{"type":"outsourced","ticket":"T-1","by":"acme","partner":"bolt","rate":1e309}"#.utf8),
        now: Ticket.start)
      Issue.record("a rate of 1e309 was imported")
    } catch {
      #expect(error.line == 1)
      #expect(error.message == "field 'rate' must be a number from 0 to 1000000000 (not negative), found 1e309")
    }
  }

  @Test("a bundle at the largest hours and rate has a finite amount, and JSON shows no null")
  func largestBundleIsFinite() throws {
    var t = try Ticket([ev.outsourced("bolt", rate: NumberField.maximumMagnitude), ev.accepted()])
    for index in 1...5 {
      try t.run(ev.added("t\(index)", by: "bolt", .time, hours: NumberField.maximumHours))
    }
    try t.run(ev.completed())
    let bundle = try #require(try t.entry("bundle-1", of: "acme"))
    #expect(bundle.content.hours == 50_000)
    #expect(bundle.content.amount == 5e13)
    let json = try t.view("acme").json.jsonText
    #expect(!json.contains("null") && !json.contains("inf") && !json.contains("nan"), "\(json)")
    #expect(json.contains(#""amount":50000000000000"#), "\(json)")
  }
}
