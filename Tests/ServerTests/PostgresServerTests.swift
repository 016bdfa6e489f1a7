import Foundation
import PartnerSync
import Testing

@testable import PartnerSyncServer

/// The server on a PostgreSQL log: its own files (keys, Idempotency-Keys) at `--state`, the log
/// shared with every other writer. The suites parameterized over ``Backend`` run the endpoints
/// there too.
@Suite("The server on a PostgreSQL log")
struct PostgresServerTests {
  @Test("a PostgreSQL log without --state: exit 64, one line that asks for it, nothing created")
  func aPostgresLogNeedsAStatePath() throws {
    try withTemporaryFolder { folder in
      let url = "postgresql://nobody@127.0.0.1:1/nowhere?log=x"
      for arguments in [["serve", "--db", url], ["keys", "add", "bolt", "--db", url], ["keys", "list", "--db", url]] {
        let result = try Self.run(arguments, in: folder)
        #expect(result.code == 64, "\(arguments): \(result.err)")
        #expect(
          result.err.hasPrefix("error: a PostgreSQL log keeps no files of the server: give --state PATH"),
          "\(result.err)")
        #expect(result.err.split(separator: "\n").count == 1, "not one line: \(result.err)")
        let badName = url.replacingOccurrences(of: "log=x", with: "log=Bad-Name")
        let malformed = try Self.run(
          arguments.map { $0 == url ? badName : $0 } + ["--state", folder.appendingPathComponent("st").path], in: folder
        )
        #expect(
          malformed.code == 64 && malformed.err.hasPrefix("error: the log name 'Bad-Name' is not valid"), "\(malformed)"
        )
      }
      #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == [], "files were created")
    }
  }

  /// Two servers on one log, as on two machines behind a load balancer (each its own state, the
  /// same key file): what one records, the other serves at once, and neither appends over the
  /// other.
  @Test(.enabled(if: Backend.database != nil, "PARTNERSYNC_TEST_POSTGRES is not set"))
  func twoServersShareOneLog() throws {
    let first = try Fixture(partners: ["acme", "bolt"], backend: .postgresql)
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("partnersync-server-\(UUID())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    try FileManager.default.copyItem(
      at: first.server.folder.appendingPathComponent("state.keys"), to: folder.appendingPathComponent("state.keys"))
    let second = try TestServer(folder: folder, postgresURL: first.server.logPath)
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

  @Test("the log's own failures reach partners in general words: no host, role or path")
  func theLogsOwnFailuresAreToldInGeneralWords() {
    let secret = "postgresql://psarole@db.internal.example:5432/psa?log=acme"
    for code in [PartnerSyncError.Code.unavailable, .busy, .storage, .corruptLog] {
      let problem = Problem(PartnerSyncError(code, "The event log at \(secret) failed (role psarole)"))
      #expect(problem.json.jsonText.contains(#""status":5"#), "\(code)")
      #expect(
        !problem.detail.contains("db.internal") && !problem.detail.contains("psarole"), "\(code): \(problem.detail)")
      #expect(problem.code == code.rawValue)
    }
    // A partner's own mistakes keep their words.
    let refused = Problem(PartnerSyncError(.invalidEvent, "entry n1 is already used", line: 2))
    #expect(refused.detail == "line 2: entry n1 is already used")
  }

  /// Runs `partnersync-server` with `arguments` in `folder`; its exit status and standard error.
  static func run(_ arguments: [String], in folder: URL) throws -> (code: Int32, err: String) {
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
    return (process.terminationStatus, said)
  }

  @Test("a --state whose folder does not exist: exit 66, one line, nothing created; a folder: exit 64")
  func aStateInAMissingFolderIsRefused() throws {
    try withTemporaryFolder { folder in
      // The database is never reached: the state is checked first.
      let url = "postgresql://nobody@127.0.0.1:1/nowhere?log=x"
      for arguments in [["serve", "--db", url], ["keys", "add", "bolt", "--db", url], ["keys", "list", "--db", url]] {
        let missing = try Self.run(
          arguments + ["--state", folder.appendingPathComponent("no/such/st").path], in: folder)
        #expect(missing.code == 66, "\(arguments): \(missing.err)")
        #expect(missing.err.hasPrefix("error: the folder ") && missing.err.contains("does not exist"), "\(missing.err)")
        #expect(missing.err.split(separator: "\n").count == 1, "\(missing.err)")
        let bare = try Self.run(arguments + ["--state", folder.path + "/"], in: folder)
        #expect(bare.code == 64 && bare.err.hasPrefix("error: --state takes a path prefix"), "\(bare.err)")
      }
      #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == [], "files were created")
    }
  }

  @Test("a log the server cannot open is its own error, before any file of the state is made")
  func aLogThatCannotBeOpenedComesFirst() throws {
    try withTemporaryFolder { folder in
      let missing = try Self.run(["serve", "--db", folder.appendingPathComponent("no/log.sqlite").path], in: folder)
      #expect(missing.code == 66 && missing.err.contains("does not exist"), "\(missing)")
      if let database = Backend.database, let url = URLComponents(string: database) {
        // A database that does not exist, named with a password: the message hides it.
        var components = url
        components.password = "s3cret"
        components.path = "/no_such_database_here"
        components.query = "log=x"
        let absent = try Self.run(
          ["serve", "--db", components.string ?? "", "--state", folder.appendingPathComponent("st").path], in: folder)
        #expect(absent.code == 66 && absent.err.hasPrefix("error: the database of "), "\(absent)")
        #expect(!absent.err.contains("s3cret"), "\(absent.err)")
      }
      #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == [], "files were created")
    }
  }

  @Test("a second server on a state that a running server holds: exit 75, one line")
  func aStateHeldByAServerIsRefused() throws {
    let fixture = try Fixture(partners: ["acme"])
    let second = try Self.run(
      ["serve", "--db", fixture.server.logPath, "--port", "0", "--log-level", "error"], in: fixture.server.folder)
    #expect(second.code == 75, "\(second.err)")
    #expect(second.err.hasPrefix("error: another server uses the state "), "\(second.err)")
    #expect(second.err.split(separator: "\n").count == 1, "\(second.err)")
    // The first one still serves.
    #expect(try fixture.send("GET", "/notifications", as: "acme").status == 200)
  }
}

/// Runs `body` with a new empty folder, removed afterwards.
func withTemporaryFolder(_ body: (URL) throws -> Void) throws {
  let folder = FileManager.default.temporaryDirectory.appendingPathComponent("partnersync-state-\(UUID())")
  try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: folder) }
  try body(folder)
}
