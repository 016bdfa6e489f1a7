import ArgumentParser
import Foundation
import Glibc
import PartnerSync

struct Import: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Validate a JSON Lines file of events and append all of them in one transaction.",
    discussion: """
      Every line is checked against the event format and the rules before anything is written.
      The first bad line fails the whole file: the error names the file, the line and the reason,
      and nothing is appended. A line without "at" is recorded at the time of import; "position"
      fields (as written by export) are ignored. The log is created when it does not exist.

      Examples:
        partnersync import history.jsonl
        cat events.jsonl | partnersync --db team.sqlite import -
      """)

  @OptionGroup var global: GlobalOptions
  @OptionGroup var output: FormatOptions

  @Argument(help: ArgumentHelp("The JSON Lines file, or - for standard input.", valueName: "file"))
  var file: String

  func run() throws {
    let bytes = try readInput()
    let path = global.path
    let result: RecordResult
    do {
      let bar = ProgressBar(quiet: global.quiet)
      defer { bar.finish() }
      if FileManager.default.fileExists(atPath: path) {
        try refuseWriteProtected(path, nothingDone: "nothing was imported", instead: "import into another log")
        let log = try report { try global.open(path: path, create: true) }
        result = try log.importJSONLines(bytes, now: Timestamp.now(), progress: bar.handler)
      } else {
        result = try importIntoNewLog(bytes, path: path, progress: bar.handler)
      }
    } catch let error as PartnerSyncError {
      if error.code == .invalidEvent, let line = error.line {
        printError(
          "error: \(displayName):\(line): \(error.message) — nothing was imported; fix line \(line) and import the file again."
        )
        throw ExitCode(Exit.dataError)
      }
      try fail(error)
    }
    switch output.format {
    case .json:
      printJSON(
        .object([
          ("imported", .number(Double(result.count))),
          ("firstPosition", .number(Double(result.firstPosition))),
          ("lastPosition", .number(Double(result.lastPosition))),
          ("decisions", .number(Double(result.decisionCount))),
        ]))
    case .text:
      guard !global.quiet else { return }
      var out = Output()
      out.line(
        "Imported \(result.count) event\(result.count == 1 ? "" : "s") from \(displayName) into \(global.path): positions \(result.firstPosition)–\(result.lastPosition), \(result.decisionCount) sync decision\(result.decisionCount == 1 ? "" : "s")."
      )
      out.flush()
    }
  }

  private var displayName: String { file == "-" ? "<stdin>" : file }

  private func readInput() throws -> [UInt8] {
    if file == "-" {
      return [UInt8](FileHandle.standardInput.readDataToEndOfFile())
    }
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory) else {
      printError(
        "error: \(file) does not exist; give the path of a JSON Lines file of events, or - for standard input.")
      throw ExitCode(Exit.noInput)
    }
    guard !isDirectory.boolValue, let bytes = readFile(file) else {
      printError("error: \(file) cannot be read; give the path of a readable JSON Lines file.")
      throw ExitCode(Exit.noInput)
    }
    return bytes
  }

  /// Creates the log with this import, or leaves nothing when the import fails.
  ///
  /// The new log is built under a private name beside `path` and linked into place only when the
  /// import succeeded. Removing a half-made log instead would be unsafe: another process may
  /// have opened it meanwhile and appended to it. When another process created the log first,
  /// the import goes into that log like any other.
  private func importIntoNewLog(
    _ bytes: [UInt8], path: String, progress: ProgressHandler?
  ) throws -> RecordResult {
    let staging = path + ".new-\(getpid())"
    defer { removeLogFiles(staging) }
    let result: RecordResult
    do {
      // The log is closed (and its WAL checkpointed) when this scope ends.
      let log = try global.open(path: staging, create: true)
      result = try log.importJSONLines(bytes, now: Timestamp.now(), progress: progress)
    } catch {
      // Errors about the log name the log, not its private staging name.
      guard error.code != .invalidEvent else { throw error }
      let message = error.message.replacingOccurrences(of: staging, with: path)
      throw PartnerSyncError(error.code, message, line: error.line)
    }
    // The closed log has no WAL left; were one left, linking only the main file would lose it.
    let walLeft = FileManager.default.fileExists(atPath: staging + "-wal")
    if !walLeft, link(staging, path) == 0 { return result }
    // Another process created the log first (or the file system has no hard links).
    let log = try report { try global.open(path: path, create: true) }
    return try log.importJSONLines(bytes, now: Timestamp.now(), progress: progress)
  }

}

/// The bytes of the file at `path`, read straight into one array (a large import would otherwise
/// hold the file twice, as `Data` and as the array made from it); `nil` when it cannot be read.
private func readFile(_ path: String) -> [UInt8]? {
  let descriptor = open(path, O_RDONLY)
  guard descriptor >= 0 else { return nil }
  defer { close(descriptor) }
  var info = stat()
  guard fstat(descriptor, &info) == 0 else { return nil }
  let size = Int(info.st_size)
  var failed = false
  var bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
    count = 0
    while count < size {
      let got = Glibc.read(descriptor, buffer.baseAddress! + count, size - count)
      guard got > 0 else {
        if got < 0, errno == EINTR { continue }
        failed = got < 0
        return
      }
      count += got
    }
  }
  guard !failed else { return nil }
  // The rest of a file that grew since `fstat`.
  var more = [UInt8](repeating: 0, count: 65_536)
  while true {
    let got = more.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
    guard got > 0 else {
      if got < 0, errno == EINTR { continue }
      return got < 0 ? nil : bytes
    }
    bytes.append(contentsOf: more[..<got])
  }
}

/// Removes a log file and its companions.
private func removeLogFiles(_ path: String) {
  for suffix in ["", "-wal", "-shm", "-journal"] { try? FileManager.default.removeItem(atPath: path + suffix) }
}
