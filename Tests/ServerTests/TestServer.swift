import Foundation
import Testing

/// The real `partnersync-server` process, serving a log of its own in a scratch folder on a free
/// loopback port.
final class TestServer {
  /// The folder that holds the log, its keys and the server's output.
  let folder: URL
  /// The log: a file in `folder`, or a PostgreSQL URL.
  let logPath: String
  /// `--db` and, for a PostgreSQL log, `--state` (its keys and Idempotency-Keys in `folder`): the
  /// same for `serve` and `keys`.
  let logArguments: [String]
  private(set) var process: Process
  private(set) var port = 0
  private let extraArguments: [String]
  /// Variables added to the server's environment (at its next start too).
  var environment: [String: String]

  /// The binary built beside this test bundle (or `$PARTNERSYNC_SERVER`).
  static let binary: URL = {
    if let path = ProcessInfo.processInfo.environment["PARTNERSYNC_SERVER"] { return URL(fileURLWithPath: path) }
    let executable = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
    var dir = executable.deletingLastPathComponent()
    for _ in 0..<3 {
      let candidate = dir.appendingPathComponent("partnersync-server")
      if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
      dir = dir.deletingLastPathComponent()
    }
    return executable.deletingLastPathComponent().appendingPathComponent("partnersync-server")
  }()

  /// Starts a server on a new log (or on the log of `folder`, to restart one); with `postgresURL`,
  /// on that PostgreSQL log.
  init(
    arguments: [String] = [], environment: [String: String] = [:], folder: URL? = nil, postgresURL: String? = nil
  ) throws {
    self.environment = environment
    self.folder =
      folder
      ?? FileManager.default.temporaryDirectory.appendingPathComponent("partnersync-server-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: self.folder, withIntermediateDirectories: true)
    logPath = postgresURL ?? self.folder.appendingPathComponent("log.sqlite").path
    logArguments =
      ["--db", logPath] + (postgresURL == nil ? [] : ["--state", self.folder.appendingPathComponent("state").path])
    extraArguments = arguments
    process = Process()
    try start()
  }

  private func start() throws {
    let portFile = folder.appendingPathComponent("port")
    try? FileManager.default.removeItem(at: portFile)
    process = Process()
    process.executableURL = Self.binary
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    process.arguments =
      ["serve"] + logArguments + ["--port", "0", "--port-file", portFile.path, "--log-level", "warning"]
      + extraArguments
    let output = folder.appendingPathComponent("server-\(UUID().uuidString).log")
    _ = FileManager.default.createFile(atPath: output.path, contents: nil)
    let handle = try FileHandle(forWritingTo: output)
    process.standardOutput = handle
    process.standardError = handle
    try process.run()
    let deadline = Date().addingTimeInterval(20)
    while Date() < deadline {
      if let text = try? String(contentsOf: portFile, encoding: .utf8),
        let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
      {
        self.port = port
        return
      }
      guard process.isRunning else { break }
      usleep(20_000)
    }
    let log = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
    throw HTTPClient.Failure(description: "the server did not start: \(log)")
  }

  /// Starts the server again on the same log (after `kill`).
  func restart() throws { try start() }

  /// Sends `signal` and waits for the process to end; its exit status.
  @discardableResult
  func stop(signal: Int32 = SIGTERM) -> Int32 {
    if process.isRunning { kill(process.processIdentifier, signal) }
    process.waitUntilExit()
    return process.terminationStatus
  }

  deinit {
    stop(signal: SIGKILL)
    try? FileManager.default.removeItem(at: folder)
  }

  var client: HTTPClient { HTTPClient(port: port) }

  /// Adds a key for `partner` with the server's own command; the key.
  func addKey(_ partner: String) throws -> String {
    let result = try run(["keys", "add", partner] + logArguments)
    #expect(result.code == 0, "keys add failed: \(result.err)")
    return result.out.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// Runs `partnersync-server` with `arguments`.
  func run(_ arguments: [String]) throws -> (code: Int32, out: String, err: String) {
    let process = Process()
    process.executableURL = Self.binary
    process.arguments = arguments
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (
      process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self)
    )
  }
}
