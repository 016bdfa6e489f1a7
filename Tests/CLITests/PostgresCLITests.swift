import Foundation
import Testing

/// The command line on a PostgreSQL log, when `PARTNERSYNC_TEST_POSTGRES` names a database
/// (`Scripts/postgres-start` prints one; without it these tests have no cases): every scenario
/// holds there as on SQLite, and export → import carries a history between the two backends byte
/// for byte.
@Suite struct PostgresCLITests {
  /// The test database's URL, or nil.
  static let server = ProcessInfo.processInfo.environment["PARTNERSYNC_TEST_POSTGRES"].flatMap {
    $0.isEmpty ? nil : $0
  }

  /// The URL of a log of its own in the test database (created by its first import).
  static func newLog() -> String {
    let server = server ?? ""
    let name = "cli_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(24)
    return server + (server.contains("?") ? "&" : "?") + "log=\(name)"
  }

  @Test(arguments: server == nil ? [] : ScenarioTests.all)
  func scenarioHolds(_ scenario: Scenario) throws {
    for failure in try ScenarioChecker.check(scenario.folder, database: Self.newLog()) {
      Issue.record("\(failure)")
    }
  }

  /// SQLite → PostgreSQL → SQLite: each log's export is the bytes of the one it was imported
  /// from, and each log verifies.
  @Test(arguments: server == nil ? [] : ScenarioTests.importable)
  func exportAndImportCarryAHistoryBetweenBackends(_ scenario: Scenario) throws {
    try withTemporaryDirectory { dir in
      var input = scenario.folder.appendingPathComponent("events.jsonl").path
      var previous: [UInt8]?
      let logs = [
        dir.appendingPathComponent("first.sqlite").path, Self.newLog(), dir.appendingPathComponent("last.sqlite").path,
      ]
      for (index, db) in logs.enumerated() {
        let imported = try CLI.run(["--db", db, "import", input])
        try #require(imported.code == 0, "import into \(db): \(imported.err)")
        let exported = try CLI.run(["--db", db, "export"])
        try #require(exported.code == 0, "export from \(db): \(exported.err)")
        let bytes = Array(exported.out.utf8)
        if let previous { #expect(bytes == previous, "the export from \(db) differs from the one imported into it") }
        previous = bytes
        let verified = try CLI.run(["--db", db, "verify"])
        #expect(verified.code == 0, "verify \(db): \(verified.out) \(verified.err)")
        input = dir.appendingPathComponent("export-\(index).jsonl").path
        try Data(bytes).write(to: URL(fileURLWithPath: input))
      }
    }
  }
}
