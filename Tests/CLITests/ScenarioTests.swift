import Foundation
import Testing

/// Every acceptance scenario of `../shared/scenarios`, run through the built command line by the
/// shared checker.
@Suite struct ScenarioTests {
  static let scenariosRoot: URL = {
    if let path = ProcessInfo.processInfo.environment["PARTNERSYNC_SCENARIOS"] {
      return URL(fileURLWithPath: path)
    }
    return CLI.packageRoot.deletingLastPathComponent().appendingPathComponent("shared/scenarios")
  }()

  static let scenarios: [String] = {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: scenariosRoot.path)) ?? []
    return names.filter {
      FileManager.default.fileExists(
        atPath: scenariosRoot.appendingPathComponent($0).appendingPathComponent("expect.json").path)
    }.sorted()
  }()

  @Test func scenariosArePresent() {
    #expect(
      Self.scenarios.count >= 10,
      "expected the shared scenarios at \(Self.scenariosRoot.path) (set PARTNERSYNC_SCENARIOS)")
  }

  @Test(arguments: scenarios)
  func scenarioPasses(_ name: String) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [
      "python3", Self.scenariosRoot.appendingPathComponent("check.py").path,
      "--cli", CLI.binary.path, Self.scenariosRoot.appendingPathComponent(name).path,
    ]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    #expect(process.terminationStatus == 0, "\(name):\n\(output)")
    #expect(output.contains("1 passed, 0 failed"), "\(name):\n\(output)")
  }

  /// Export, import into a new log, export again: the same lines.
  @Test(arguments: scenarios)
  func exportImportRoundTrip(_ name: String) throws {
    let expect = try String(
      contentsOf: Self.scenariosRoot.appendingPathComponent(name).appendingPathComponent("expect.json"),
      encoding: .utf8)
    guard !expect.contains("\"reject\"") else { return }
    try withTemporaryDirectory { dir in
      let first = dir.appendingPathComponent("first.sqlite").path
      let second = dir.appendingPathComponent("second.sqlite").path
      let events = Self.scenariosRoot.appendingPathComponent(name).appendingPathComponent("events.jsonl")
      #expect(try CLI.run(["--db", first, "import", events.path]).code == 0)
      let exported = try CLI.run(["--db", first, "export"])
      #expect(exported.code == 0)
      #expect(try CLI.run(["--db", second, "import", "-"], stdin: Data(exported.out.utf8)).code == 0)
      let again = try CLI.run(["--db", second, "export"])
      #expect(again.out == exported.out)
      #expect(!again.out.isEmpty)
      // The views and the audit survive the round trip too.
      let audit1 = try CLI.run(["--db", first, "audit", "T-1", "--format", "json"])
      let audit2 = try CLI.run(["--db", second, "audit", "T-1", "--format", "json"])
      #expect(audit1.out == audit2.out)
    }
  }
}
