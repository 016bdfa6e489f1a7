import Foundation
import PartnerSync
import Testing

/// The server on a PostgreSQL log: its own files (keys, Idempotency-Keys) at `--state`, the log
/// shared with every other writer. The suites parameterized over ``Backend`` run the endpoints
/// there too.
@Suite("The server on a PostgreSQL log")
struct PostgresServerTests {
  @Test("a PostgreSQL log without --state: exit 64, one line that asks for it, nothing created")
  func aPostgresLogNeedsAStatePath() throws {
    let url = "postgresql://nobody@127.0.0.1:1/nowhere?log=x"
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("partnersync-state-\(UUID())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    for arguments in [["serve", "--db", url], ["keys", "add", "bolt", "--db", url], ["keys", "list", "--db", url]] {
      let process = Process()
      process.executableURL = TestServer.binary
      process.arguments = arguments
      process.currentDirectoryURL = folder
      let err = Pipe()
      process.standardError = err
      process.standardOutput = Pipe()
      try process.run()
      let said = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
      process.waitUntilExit()
      #expect(process.terminationStatus == 64, "\(arguments): \(said)")
      #expect(said.hasPrefix("Error: a PostgreSQL log keeps no files of the server: give --state PATH"), "\(said)")
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == [], "files were created")
  }

  /// Two servers on one log, as on two machines behind a load balancer (their state files the
  /// same): what one records, the other serves at once, and neither appends over the other.
  @Test(.enabled(if: Backend.database != nil, "PARTNERSYNC_TEST_POSTGRES is not set"))
  func twoServersShareOneLog() throws {
    let first = try Fixture(partners: ["acme", "bolt"], backend: .postgresql)
    let second = try TestServer(folder: first.server.folder, postgresURL: first.server.logPath)
    let other = HTTPClient(port: second.port)
    try first.record("T-1", as: "acme", [Events.outsourced("T-1")])
    let accepted = try other.send(
      "POST", "/tickets/T-1/events", key: first.keys["bolt"], body: Array(Events.accepted("T-1").utf8))
    #expect(accepted.status == 201, "\(accepted.text)")
    #expect(try accepted.object()["firstPosition"] as? Int == 2)
    try first.record("T-1", as: "acme", [Events.note("T-1", by: "acme", entry: "n1", text: "hello")])
    let view = try other.send("GET", "/tickets/T-1/view", key: first.keys["bolt"])
    let object = try view.object()
    #expect(object["position"] as? Int == 3, "\(view.text)")
    #expect((object["entries"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["n1"], "\(view.text)")
    // The log stays whole: positions without gaps, the chain unbroken.
    let report = try PartnerSyncLog.open(url: first.server.logPath).verify()
    #expect(report.isHealthy && report.events == 3, "\(report)")
  }
}
