import Foundation
import Testing

/// A catalogue of malformed and refused inputs, each through `partnersync import`: exit 65, one
/// line naming the line and the reason, and the log byte for byte unchanged.
@Suite struct HostileInputTests {
  struct Case: CustomTestStringConvertible, Sendable {
    var name: String
    var lines: [String]
    /// The line the error must name (nil: the input holds no line to name).
    var line: Int?
    /// Words the reason must contain.
    var says: String
    var raw: [UInt8]?

    var testDescription: String { name }

    init(_ name: String, _ lines: [String], line: Int?, says: String) {
      self.name = name
      self.lines = lines
      self.line = line
      self.says = says
    }

    init(_ name: String, raw: [UInt8], line: Int?, says: String) {
      self.init(name, [], line: line, says: says)
      self.raw = raw
    }

    var bytes: [UInt8] { raw ?? Array(lines.joined(separator: "\n").utf8) }
  }

  /// The history already in the log: T-1 outsourced by acme to bolt and accepted, with acme's
  /// note n1 and time t1, and bolt's note b1.
  static let base = """
    {"type":"outsourced","ticket":"T-1","by":"acme","partner":"bolt","resource":"dana","at":"2026-03-02T09:00:00Z"}
    {"type":"accepted","ticket":"T-1","by":"bolt","at":"2026-03-02T09:05:00Z"}
    {"type":"entry-added","ticket":"T-1","by":"acme","entry":"n1","kind":"note","text":"Jams","at":"2026-03-02T09:10:00Z"}
    {"type":"entry-added","ticket":"T-1","by":"acme","entry":"t1","kind":"time","hours":1,"at":"2026-03-02T09:11:00Z"}
    {"type":"entry-added","ticket":"T-1","by":"bolt","entry":"b1","kind":"note","text":"On it","at":"2026-03-02T09:12:00Z"}
    {"type":"entry-deleted","ticket":"T-1","by":"bolt","entry":"b1","at":"2026-03-02T09:13:00Z"}
    """

  static let ok = #"{"type":"entry-added","ticket":"T-1","by":"acme","entry":"ok1","kind":"note","text":"fine"}"#
  static func add(_ fields: String, by: String = "acme", ticket: String = "T-1") -> String {
    #"{"type":"entry-added","ticket":"\#(ticket)","by":"\#(by)",\#(fields)}"#
  }
  static func event(_ type: String, by: String, _ extra: String = "", ticket: String = "T-1") -> String {
    #"{"type":"\#(type)","ticket":"\#(ticket)","by":"\#(by)"\#(extra.isEmpty ? "" : "," + extra)}"#
  }
  static let request = event("completion-requested", by: "bolt")

  static let cases: [Case] = [
    // Not JSON, or not an event object.
    Case("invalid JSON", [ok, #"{"type": accepted}"#], line: 2, says: "invalid JSON"),
    Case("truncated last line", [ok, #"{"type":"entry-added","ticket":"T-1","by"#], line: 2, says: "invalid JSON"),
    Case("empty file", raw: [], line: nil, says: "no events"),
    Case("blank lines only", raw: Array("\n   \n\t\n\n".utf8), line: nil, says: "no events"),
    Case("blank lines then a bad line", ["", "  ", ok, "", "{"], line: 5, says: "invalid JSON"),
    Case(
      "a 10 MB line",
      [ok, add(#""entry":"big","kind":"note","text":""# + String(repeating: "x", count: 10 << 20) + "\"")],
      line: 2, says: "bytes long"),
    Case(
      "invalid UTF-8",
      raw: Array(ok.utf8) + [0x0A]
        + Array(#"{"type":"entry-added","ticket":"T-1","by":"acme","entry":"u","kind":"note","text":""#.utf8) + [
          0xC3, 0x28,
        ] + Array(#""}"#.utf8), line: 2, says: "UTF-8"),
    Case(
      "a NUL byte", raw: Array(#"{"type":"accepted","ticket":"T-1","#.utf8) + [0] + Array(#""by":"bolt"}"#.utf8),
      line: 1, says: "invalid JSON"),
    Case("an escaped NUL in a string", [add(#""entry":"z","kind":"note","text":"a\u0000b""#)], line: 1, says: "NUL"),
    Case("not an object", ["[1,2,3]"], line: 1, says: "object"),
    Case("a bare string", [#""entry-added""#], line: 1, says: "object"),
    Case(
      "duplicate key", [#"{"type":"accepted","type":"declined","ticket":"T-1","by":"bolt"}"#], line: 1,
      says: "duplicate key"),
    Case("trailing comma", [#"{"type":"accepted","ticket":"T-1","by":"bolt",}"#], line: 1, says: "invalid JSON"),
    Case("NaN", [add(#""entry":"t9","kind":"time","hours":NaN"#)], line: 1, says: "invalid JSON"),
    Case("deep nesting", [String(repeating: "[", count: 100_000)], line: 1, says: "invalid JSON"),
    // Fields.
    Case("missing type", [#"{"ticket":"T-1","by":"acme"}"#], line: 1, says: "'type'"),
    Case("missing ticket", [#"{"type":"accepted","by":"bolt"}"#], line: 1, says: "'ticket'"),
    Case("missing by", [#"{"type":"accepted","ticket":"T-1"}"#], line: 1, says: "'by'"),
    Case("unknown type", [ok, event("reopened", by: "acme")], line: 2, says: "unknown event type"),
    Case("unknown field", [event("accepted", by: "bolt", #""colour":"red""#)], line: 1, says: "unknown field 'colour'"),
    Case("field of another kind", [add(#""entry":"x","kind":"note","hours":2"#)], line: 1, says: "does not belong"),
    Case("ticket as a number", [#"{"type":"accepted","ticket":5,"by":"bolt"}"#], line: 1, says: "must be a string"),
    Case("hours as a string", [add(#""entry":"t9","kind":"time","hours":"2""#)], line: 1, says: "must be a number"),
    Case(
      "billable as a string", [add(#""entry":"c9","kind":"charge","amount":5,"billable":"yes""#)], line: 1,
      says: "true or false"),
    Case("negative hours", [add(#""entry":"t9","kind":"time","hours":-1"#)], line: 1, says: "greater than 0"),
    Case("zero hours", [add(#""entry":"t9","kind":"time","hours":0"#)], line: 1, says: "greater than 0"),
    Case(
      "negative rate", [event("outsourced", by: "acme", #""partner":"crane","rate":-5"#, ticket: "T-2")], line: 1,
      says: "negative"),
    // Numbers out of bounds (the error says the bound).
    Case(
      "hours above 10000", [ok, add(#""entry":"t9","kind":"time","hours":10000.0001"#)], line: 2,
      says: "greater than 0 and at most 10000, found 10000.0001"),
    Case(
      "hours beyond a double", [add(#""entry":"t9","kind":"time","hours":1e400"#)], line: 1,
      says: "greater than 0 and at most 10000, found 1e400"),
    Case(
      "huge hours in an edit", [event("entry-edited", by: "acme", #""entry":"t1","hours":1e12"#)], line: 1,
      says: "at most 10000"),
    Case(
      "rate beyond a double", [event("outsourced", by: "acme", #""partner":"crane","rate":1e400"#, ticket: "T-2")],
      line: 1, says: "'rate' must be a number from 0 to 1000000000"),
    Case(
      "rate above 10^9", [event("outsourced", by: "acme", #""partner":"crane","rate":1000000001"#, ticket: "T-2")],
      line: 1, says: "'rate' must be a number from 0 to 1000000000"),
    Case(
      "amount below -10^9", [add(#""entry":"c9","kind":"charge","amount":-1e10"#)], line: 1,
      says: "'amount' must be a number from -1000000000 to 1000000000"),
    Case(
      "amount beyond a double", [add(#""entry":"c9","kind":"charge","amount":-1e400"#)], line: 1,
      says: "'amount' must be a number from -1000000000 to 1000000000, found -1e400"),
    Case("unknown kind", [add(#""entry":"v1","kind":"video""#)], line: 1, says: "unknown entry kind"),
    Case("time without hours", [add(#""entry":"t9","kind":"time""#)], line: 1, says: "needs 'hours'"),
    Case(
      "attachment without name", [add(#""entry":"a9","kind":"attachment","attachmentType":"file""#)], line: 1,
      says: "needs 'name'"),
    Case(
      "unknown attachment type", [add(#""entry":"a9","kind":"attachment","attachmentType":"ftp","name":"x""#)], line: 1,
      says: "attachmentType"),
    Case(
      "visibility internal-users-only", [add(#""entry":"n9","kind":"note","visibility":"internal-users-only""#)],
      line: 1, says: "'public' or 'internal'"),
    Case(
      "edit of attachmentType", [event("entry-edited", by: "acme", #""entry":"n1","attachmentType":"file""#)], line: 1,
      says: "cannot be edited"),
    Case(
      "edit without fields", [event("entry-edited", by: "acme", #""entry":"n1""#)], line: 1, says: "at least one field"),
    Case(
      "blank rejection reason", [request, event("completion-rejected", by: "acme", #""reason":"  ""#)], line: 2,
      says: "blank"),
    Case("reserved bundle id", [add(#""entry":"bundle-1","kind":"charge","amount":1"#)], line: 1, says: "reserved"),
    // Identifiers.
    Case("id with a quote", [add(#""entry":"n\"1","kind":"note""#)], line: 1, says: "may hold only"),
    Case("id with a semicolon", [add(#""entry":"a;b","kind":"note""#)], line: 1, says: "may hold only"),
    Case("id with SQL", [add(#""entry":"'); DROP TABLE events;--","kind":"note""#)], line: 1, says: "field 'entry'"),
    Case(
      "ticket with SQL", [event("outsourced", by: "acme", #""partner":"bolt""#, ticket: "T'; DELETE FROM events;--")],
      line: 1, says: "field 'ticket'"),
    Case(
      "very long id", [add(#""entry":""# + String(repeating: "n", count: 5000) + #"","kind":"note""#)], line: 1,
      says: "at most 64"),
    Case("empty id", [add(#""entry":"","kind":"note""#)], line: 1, says: "is empty"),
    // Times.
    Case(
      "time with a space", [event("completion-requested", by: "bolt", #""at":"2026-03-02 09:00:00Z""#)], line: 1,
      says: "RFC 3339"),
    Case(
      "time as words", [ok, event("completion-requested", by: "bolt", #""at":"yesterday""#)], line: 2, says: "RFC 3339"),
    Case(
      "month 13", [event("completion-requested", by: "bolt", #""at":"2026-13-01T00:00:00Z""#)], line: 1,
      says: "RFC 3339"),
    Case(
      "30 February", [event("completion-requested", by: "bolt", #""at":"2026-02-30T00:00:00Z""#)], line: 1,
      says: "RFC 3339"),
    Case(
      "time without zone", [event("completion-requested", by: "bolt", #""at":"2026-03-02T09:00:00""#)], line: 1,
      says: "RFC 3339"),
    Case(
      "time as a number", [event("completion-requested", by: "bolt", #""at":1700000000"#)], line: 1,
      says: "must be a string"),
    // Who may act.
    Case("unknown partner acting", [add(#""entry":"z1","kind":"note""#, by: "zed")], line: 1, says: "zed"),
    Case(
      "first event of a ticket is accepted", [event("accepted", by: "bolt", ticket: "T-2")], line: 1,
      says: "first event"),
    Case(
      "declined by the lead",
      [
        event("outsourced", by: "acme", #""partner":"bolt""#, ticket: "T-2"),
        event("declined", by: "acme", ticket: "T-2"),
      ], line: 2, says: "only bolt"),
    Case(
      "accepted by another partner",
      [
        event("outsourced", by: "acme", #""partner":"bolt""#, ticket: "T-2"),
        event("accepted", by: "crane", ticket: "T-2"),
      ], line: 2, says: "only bolt"),
    Case(
      "outsourced to itself", [event("outsourced", by: "acme", #""partner":"acme""#, ticket: "T-2")], line: 1,
      says: "itself"),
    Case(
      "outsourced by the partner", [event("outsourced", by: "bolt", #""partner":"crane""#)], line: 1, says: "only acme"),
    // Refused transitions.
    Case("accepted twice", [event("accepted", by: "bolt")], line: 1, says: "allowed only from assigned"),
    Case("declined after acceptance", [event("declined", by: "bolt")], line: 1, says: "allowed only from assigned"),
    Case("cancelled after acceptance", [event("cancelled", by: "acme")], line: 1, says: "allowed only from assigned"),
    Case(
      "approval without request", [ok, event("completion-approved", by: "acme")], line: 2, says: "waiting-approval"),
    Case(
      "rejection without request", [event("completion-rejected", by: "acme", #""reason":"no""#)], line: 1,
      says: "waiting-approval"),
    Case(
      "second outsourcing while open", [event("outsourced", by: "acme", #""partner":"crane""#)], line: 1,
      says: "open engagement"),
    Case("request while waiting", [request, request], line: 2, says: "allowed only from"),
    Case(
      "completed twice", [event("completed", by: "acme"), event("completed", by: "acme")], line: 2,
      says: "allowed only from"),
    Case(
      "requested from assigned",
      [
        event("outsourced", by: "acme", #""partner":"bolt""#, ticket: "T-2"),
        event("completion-requested", by: "bolt", ticket: "T-2"),
      ], line: 2, says: "allowed only from"),
    Case(
      "completed from assigned",
      [
        event("outsourced", by: "acme", #""partner":"bolt""#, ticket: "T-2"),
        event("completed", by: "acme", ticket: "T-2"),
      ], line: 2, says: "allowed only from"),
    Case(
      "partner acts before accepting",
      [
        event("outsourced", by: "acme", #""partner":"bolt""#, ticket: "T-2"),
        add(#""entry":"q","kind":"note""#, by: "bolt", ticket: "T-2"),
      ], line: 2, says: "holds no version"),
    // Entries.
    Case("duplicate entry id", [add(#""entry":"n1","kind":"note""#)], line: 1, says: "already used"),
    Case("id reused after deletion", [add(#""entry":"b1","kind":"note""#, by: "bolt")], line: 1, says: "already used"),
    Case("duplicate within the file", [ok, ok], line: 2, says: "already used"),
    Case(
      "edit of a deleted entry", [event("entry-edited", by: "bolt", #""entry":"b1","text":"x""#)], line: 1,
      says: "bolt's version of ticket T-1 has no such entry"),
    Case(
      "edit of an unknown entry", [event("entry-edited", by: "acme", #""entry":"zz","text":"x""#)], line: 1,
      says: "no such entry"),
    Case(
      "delete of an unknown entry", [event("entry-deleted", by: "bolt", #""entry":"zz""#)], line: 1,
      says: "no such entry"),
    Case(
      "hours on the lead's time as a note", [event("entry-edited", by: "bolt", #""entry":"t1","hours":3"#)], line: 1,
      says: "cannot set 'hours'"),
    Case(
      "edit of a pre-request entry while waiting",
      [request, event("entry-edited", by: "bolt", #""entry":"n1","text":"x""#)], line: 2, says: "waits for approval"),
  ]

  @Test func catalogueIsLargeEnough() {
    #expect(Self.cases.count >= 40)
  }

  @Test(arguments: cases)
  func importIsRefusedAndChangesNothing(_ c: Case) throws {
    try withTemporaryDirectory { dir in
      let db = dir.appendingPathComponent("log.sqlite")
      let base = try CLI.run(["--db", db.path, "import", "-"], stdin: Data(Self.base.utf8))
      try #require(base.code == 0, "\(base.err)")
      let before = try snapshot(dir)
      let file = dir.appendingPathComponent("bad.jsonl")
      try Data(c.bytes).write(to: file)
      let result = try CLI.run(["--db", db.path, "import", file.path])
      #expect(result.code == 65, "\(c.name): exit \(result.code): \(result.err)")
      let lines = result.err.split(separator: "\n")
      #expect(lines.count == 1, "\(c.name): \(result.err.prefix(500))")
      #expect(result.err.count < 600, "\(c.name): the message should be one short line")
      if let line = c.line {
        #expect(result.err.contains("bad.jsonl:\(line):"), "\(c.name): \(result.err.prefix(300))")
      }
      #expect(result.err.contains(c.says), "\(c.name): \(result.err.prefix(300))")
      #expect(try snapshot(dir) == before, "\(c.name): the log changed")
    }
  }

  /// The bytes of every file of the log.
  func snapshot(_ dir: URL) throws -> [String: Data] {
    var files: [String: Data] = [:]
    for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) where name.hasPrefix("log.sqlite") {
      files[name] = try Data(contentsOf: dir.appendingPathComponent(name))
    }
    return files
  }
}
