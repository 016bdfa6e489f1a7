import Foundation
import Testing

/// Runs the built `partnersync` binary, the way users and scripts do.
enum CLI {
  /// Runs `sql` on the SQLite file `db` with the sqlite3 shell, which must succeed.
  static func sqlite3(_ db: URL, _ sql: String) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
    process.arguments = [db.path, sql]
    try process.run()
    process.waitUntilExit()
    try #require(process.terminationStatus == 0, "sqlite3 \(sql) failed")
  }

  struct Result {
    var code: Int32
    var out: String
    var err: String
  }

  /// The binary built beside this test bundle (or `$PARTNERSYNC_CLI`).
  static let binary: URL = {
    if let path = ProcessInfo.processInfo.environment["PARTNERSYNC_CLI"] {
      return URL(fileURLWithPath: path)
    }
    let executable = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
    var dir = executable.deletingLastPathComponent()
    // On Linux the test runner sits in `<products>/PartnerSyncPackageTests.xctest`.
    for _ in 0..<3 {
      let candidate = dir.appendingPathComponent("partnersync")
      if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
      dir = dir.deletingLastPathComponent()
    }
    return executable.deletingLastPathComponent().appendingPathComponent("partnersync")
  }()

  /// The package's root folder.
  static let packageRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  @discardableResult
  static func run(
    _ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:],
    in directory: URL? = nil
  ) throws -> Result {
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    env.removeValue(forKey: "PARTNERSYNC_DB")
    for (k, v) in environment { env[k] = v }
    process.environment = env
    if let directory { process.currentDirectoryURL = directory }
    // Output goes to files, so that a large output can never block the child on a full pipe.
    let scratch = FileManager.default.temporaryDirectory
      .appendingPathComponent("partnersync-run-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: scratch) }
    let outURL = scratch.appendingPathComponent("out")
    let errURL = scratch.appendingPathComponent("err")
    let inURL = scratch.appendingPathComponent("in")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: inURL.path, contents: stdin ?? Data())
    let outHandle = try FileHandle(forWritingTo: outURL)
    let errHandle = try FileHandle(forWritingTo: errURL)
    let inHandle = try FileHandle(forReadingFrom: inURL)
    defer {
      try? outHandle.close()
      try? errHandle.close()
      try? inHandle.close()
    }
    process.standardOutput = outHandle
    process.standardError = errHandle
    process.standardInput = inHandle
    try process.run()
    process.waitUntilExit()
    return Result(
      code: process.terminationStatus,
      out: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
      err: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
  }

  /// Runs with `--db db` and `--format json`, expecting success, and parses the JSON.
  static func json(_ arguments: [String], db: URL) throws -> [String: Any] {
    let result = try run(["--db", db.path] + arguments + ["--format", "json"])
    #expect(result.code == 0, "\(arguments) exited \(result.code): \(result.err)")
    let object = try JSONSerialization.jsonObject(with: Data(result.out.utf8))
    return try #require(object as? [String: Any])
  }
}

/// A fresh temporary folder, removed afterwards.
func withTemporaryDirectory<T>(_ body: (URL) throws -> T) throws -> T {
  let dir = FileManager.default.temporaryDirectory
    .appendingPathComponent("partnersync-cli-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: dir) }
  return try body(dir)
}
