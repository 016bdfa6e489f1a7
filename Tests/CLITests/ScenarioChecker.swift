import Foundation

/// A parsed JSON value, as the scenario checker compares it.
enum ScenarioJSON: Decodable, Equatable, CustomStringConvertible {
  case null
  case bool(Bool)
  case number(Double)
  case string(String)
  case array([ScenarioJSON])
  case object([String: ScenarioJSON])

  init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    if container.decodeNil() {
      self = .null
    } else if let value = try? container.decode(Bool.self) {
      self = .bool(value)
    } else if let value = try? container.decode(Double.self) {
      self = .number(value)
    } else if let value = try? container.decode(String.self) {
      self = .string(value)
    } else if let value = try? container.decode([ScenarioJSON].self) {
      self = .array(value)
    } else {
      self = .object(try container.decode([String: ScenarioJSON].self))
    }
  }

  static func parse(_ text: String) throws -> ScenarioJSON {
    try JSONDecoder().decode(ScenarioJSON.self, from: Data(text.utf8))
  }

  subscript(key: String) -> ScenarioJSON? {
    if case .object(let members) = self { return members[key] }
    return nil
  }

  var string: String? {
    if case .string(let s) = self { return s }
    return nil
  }

  var array: [ScenarioJSON]? {
    if case .array(let a) = self { return a }
    return nil
  }

  var object: [String: ScenarioJSON]? {
    if case .object(let o) = self { return o }
    return nil
  }

  /// The value as a command-line argument: `5` for a whole number, the text of a string.
  var argument: String {
    switch self {
    case .string(let s): return s
    case .number(let n) where n == n.rounded() && abs(n) < 1e15: return String(Int64(n))
    default: return description
    }
  }

  var description: String {
    switch self {
    case .null: return "null"
    case .bool(let b): return b ? "true" : "false"
    case .number(let n): return n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)
    case .string(let s): return "'\(s)'"
    case .array(let a): return "[" + a.map(\.description).joined(separator: ", ") + "]"
    case .object(let o):
      return "{" + o.keys.sorted().map { "'\($0)': \(o[$0]!.description)" }.joined(separator: ", ") + "}"
    }
  }
}

/// Runs one acceptance scenario (a folder with `events.jsonl` and `expect.json`, format in
/// `Tests/Scenarios/README.md`) against the built command line, with the semantics of the shared
/// `check.py`: it returns one line per failed check, empty when the scenario holds.
enum ScenarioChecker {
  /// Two expected and actual values agree: numbers within 1e-9, anything else exactly.
  static func same(_ expected: ScenarioJSON, _ actual: ScenarioJSON) -> Bool {
    if case .number(let a) = expected, case .number(let b) = actual { return abs(a - b) < 1e-9 }
    return expected == actual
  }

  /// Every field of `expected` is in `actual` with an equal value, or the first that is not.
  static func subsetMismatch(_ expected: [String: ScenarioJSON], _ actual: ScenarioJSON, _ place: String) -> String? {
    for key in expected.keys.sorted() {
      let want = expected[key]!
      guard let got = actual[key] else { return "\(place): missing field '\(key)' (expected \(want))" }
      if !same(want, got) { return "\(place): '\(key)' is \(got), expected \(want)" }
    }
    return nil
  }

  struct CommandFailure: Error, CustomStringConvertible {
    var description: String
  }

  /// Runs `partnersync --db db ARGS --format json`; exit 0 and JSON on standard output, or a failure.
  static func json(_ arguments: [String], db: String) throws -> ScenarioJSON {
    let result = try CLI.run(["--db", db] + arguments + ["--format", "json"])
    let command = arguments.joined(separator: " ")
    guard result.code == 0 else {
      throw CommandFailure(
        description:
          "`\(command)` exited \(result.code): \(result.err.trimmingCharacters(in: .whitespacesAndNewlines).prefix(300))"
      )
    }
    do {
      return try ScenarioJSON.parse(result.out)
    } catch {
      throw CommandFailure(description: "`\(command)` printed no JSON: \(result.out.prefix(200))")
    }
  }

  /// Checks scenario `folder` in a new log (`database`, or a SQLite file in a temporary folder);
  /// every failed check as one line.
  static func check(_ folder: URL, database: String? = nil) throws -> [String] {
    let name = folder.lastPathComponent
    let expect = try ScenarioJSON.parse(
      String(contentsOf: folder.appendingPathComponent("expect.json"), encoding: .utf8))
    return try withTemporaryDirectory { dir in
      let db = database ?? dir.appendingPathComponent("log.sqlite").path
      let events = folder.appendingPathComponent("events.jsonl").path
      let imported = try CLI.run(["--db", db, "import", events])
      if let reject = expect["reject"] {
        return try checkRejection(reject, imported: imported, name: name, db: db)
      }
      guard imported.code == 0 else {
        return [
          "\(name): import failed with exit \(imported.code): \(imported.err.trimmingCharacters(in: .whitespacesAndNewlines).prefix(300))"
        ]
      }
      var failures: [String] = []
      for view in expect["views"]?.array ?? [] {
        failures += checkView(view, name: name, db: db)
      }
      var audits: [String: ScenarioJSON] = [:]
      for audit in expect["audit"]?.array ?? [] {
        failures += checkAudit(audit, name: name, db: db, cache: &audits)
      }
      for notifications in expect["notifications"]?.array ?? [] {
        failures += checkNotifications(notifications, name: name, db: db)
      }
      return failures
    }
  }

  /// The import failed with exit 65, named the line, and appended nothing.
  static func checkRejection(_ reject: ScenarioJSON, imported: CLI.Result, name: String, db: String) throws -> [String]
  {
    var failures: [String] = []
    let line = reject["line"]?.argument ?? "?"
    if imported.code != 65 {
      failures.append("\(name): import should fail with exit 65, got \(imported.code)")
    }
    let message = (imported.err + imported.out).lowercased()
    if !message.contains(":\(line):") && !message.contains("line \(line)") {
      failures.append(
        "\(name): the error should name line \(line): \(message.trimmingCharacters(in: .whitespacesAndNewlines).prefix(200))"
      )
    }
    // A log that does not exist exports nothing (exit 66): nothing was appended either.
    let exported = try CLI.run(["--db", db, "export"])
    let lines = exported.out.trimmingCharacters(in: .whitespacesAndNewlines)
    if exported.code == 0 && !lines.isEmpty {
      failures.append("\(name): a failed import appended events: \(lines.prefix(200))")
    }
    return failures
  }

  /// `view TICKET --as PARTNER [--at AT] [--engagement N]`: the listed fields, and exactly the
  /// listed entries in order, each with its listed fields.
  static func checkView(_ view: ScenarioJSON, name: String, db: String) -> [String] {
    let ticket = view["ticket"]?.string ?? "", partner = view["as"]?.string ?? ""
    var arguments = ["view", ticket, "--as", partner]
    var place = "\(name): view \(ticket) --as \(partner)"
    for option in ["at", "engagement"] {
      if let value = view[option], value != .null {
        arguments += ["--\(option)", value.argument]
        place += " --\(option) \(value.argument)"
      }
    }
    let got: ScenarioJSON
    do {
      got = try json(arguments, db: db)
    } catch {
      return ["\(place): \(error)"]
    }
    var expected = view["expect"]?.object ?? [:]
    let expectedEntries = expected.removeValue(forKey: "entries")?.array
    var failures: [String] = []
    if let mismatch = subsetMismatch(expected, got, place) { failures.append(mismatch) }
    if let expectedEntries {
      let gotEntries = got["entries"]?.array ?? []
      let ids = gotEntries.map { $0["id"]?.string }
      let want = expectedEntries.map { $0["id"]?.string }
      if ids != want {
        failures.append("\(place): entries \(ids.map { $0 ?? "nil" }), expected \(want.map { $0 ?? "nil" })")
      } else {
        for (entry, gotEntry) in zip(expectedEntries, gotEntries) {
          let id = entry["id"]?.string ?? ""
          if let mismatch = subsetMismatch(entry.object ?? [:], gotEntry, "\(place) entry \(id)") {
            failures.append(mismatch)
          }
        }
      }
    }
    return failures
  }

  /// The decisions of `audit TICKET` about `entry` and `to`: exactly those listed, in order.
  static func checkAudit(
    _ audit: ScenarioJSON, name: String, db: String, cache: inout [String: ScenarioJSON]
  ) -> [String] {
    let ticket = audit["ticket"]?.string ?? "", entry = audit["entry"]?.string ?? ""
    let to = audit["to"]?.string ?? ""
    let place = "\(name): audit \(ticket) entry \(entry) to \(to)"
    let decisions: [ScenarioJSON]
    do {
      if cache[ticket] == nil { cache[ticket] = try json(["audit", ticket], db: db) }
      decisions = (cache[ticket]?["decisions"]?.array ?? []).filter {
        $0["entry"]?.string == entry && $0["to"]?.string == to
      }
    } catch {
      return ["\(place): \(error)"]
    }
    let want = audit["decisions"]?.array ?? []
    func summary(_ list: [ScenarioJSON]) -> String {
      "["
        + list.map { d in
          "(\(d["position"]?.description ?? "nil"), \(d["outcome"]?.description ?? "nil"), \(d["rule"]?.description ?? "nil"))"
        }.joined(separator: ", ") + "]"
    }
    guard decisions.count == want.count else {
      return ["\(place): \(decisions.count) decisions \(summary(decisions)), expected \(summary(want))"]
    }
    var failures: [String] = []
    for (index, (expected, got)) in zip(want, decisions).enumerated() {
      if let mismatch = subsetMismatch(expected.object ?? [:], got, "\(place) decision \(index + 1)") {
        failures.append(mismatch)
      }
    }
    return failures
  }

  /// The notifications of `notifications TICKET` with `rule`: exactly those listed, in order.
  static func checkNotifications(_ notifications: ScenarioJSON, name: String, db: String) -> [String] {
    let ticket = notifications["ticket"]?.string ?? "", rule = notifications["rule"]?.string ?? ""
    let place = "\(name): notifications \(ticket) \(rule)"
    let got: [ScenarioJSON]
    do {
      got = (try json(["notifications", ticket], db: db)["notifications"]?.array ?? []).filter {
        $0["rule"]?.string == rule
      }
    } catch {
      return ["\(place): \(error)"]
    }
    let want = notifications["expect"]?.array ?? []
    guard got.count == want.count else {
      func summary(_ list: [ScenarioJSON]) -> String {
        "["
          + list.map { "(\($0["position"]?.description ?? "nil"), \($0["entry"]?.description ?? "nil"))" }
          .joined(separator: ", ") + "]"
      }
      return ["\(place): \(got.count) notifications \(summary(got)), expected \(want.count) \(summary(want))"]
    }
    var failures: [String] = []
    for (index, (expected, actual)) in zip(want, got).enumerated() {
      if let mismatch = subsetMismatch(expected.object ?? [:], actual, "\(place) #\(index + 1)") {
        failures.append(mismatch)
      }
    }
    return failures
  }
}
