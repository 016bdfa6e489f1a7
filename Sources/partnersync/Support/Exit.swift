import ArgumentParser
import Foundation
import PartnerSync
import PostgresEventLog

/// The documented exit codes (sysexits.h).
enum Exit {
  static let damaged: Int32 = 1
  static let usage: Int32 = 64
  static let dataError: Int32 = 65
  static let noInput: Int32 = 66
  static let software: Int32 = 70
  static let tempFail: Int32 = 75

  /// The exit code for a library error.
  static func code(for error: PartnerSyncError) -> Int32 {
    switch error.code {
    case .invalidEvent: dataError
    case .versionConflict, .busy, .unavailable, .deliveryFailed, .positionNotReached: tempFail
    case .logNotFound, .unusableLog, .readOnly, .unknownTicket, .unknownPartner, .unknownEntry: noInput
    case .outOfRange: usage
    case .corruptLog, .storage: software
    }
  }
}

/// Writes an informational line to standard error, unless `--quiet`.
func printNote(_ message: String, quiet: Bool) {
  if !quiet { FileHandle.standardError.write(Data((message + "\n").utf8)) }
}

/// Prints `error: message` as one line on standard error and returns `code` to throw. Control
/// characters that the message quotes from the input (a line break in a field's name, say) are
/// written as escapes, so the message stays one line.
func failure(_ message: String, _ code: Int32) -> ExitCode {
  let label = Terminal.paint("error:", "31", enabled: Terminal.colorsOnStderr)
  var line = ""
  for scalar in message.unicodeScalars {
    switch scalar {
    case "\n": line += "\\n"
    case "\r": line += "\\r"
    case "\t": line += "\\t"
    case _ where scalar.value < 0x20 || scalar.value == 0x7F:
      line +=
        "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
        + String(scalar.value, radix: 16)
    default: line.unicodeScalars.append(scalar)
    }
  }
  FileHandle.standardError.write(Data("\(label) \(line)\n".utf8))
  return ExitCode(code)
}

/// Prints a library error as one line on standard error and returns its exit code.
func fail(_ error: PartnerSyncError, path: String? = nil) -> ExitCode {
  if error.code == .logNotFound, let path, PostgresLocation.isURL(path), let location = try? PostgresLocation(url: path)
  {
    guard !error.message.contains("database does not exist") else {
      return failure(
        "the database of \(location) does not exist; create it (createdb), or point --db or PARTNERSYNC_DB at an existing database.",
        Exit.code(for: error))
    }
    return failure(
      "there is no log at \(location); import events first (partnersync --db URL import FILE), run partnersync demo, or point --db or PARTNERSYNC_DB at an existing log.",
      Exit.code(for: error))
  }
  // (The library names the cause itself when the log's folder does not exist.)
  var isFolder: ObjCBool = false
  if error.code == .logNotFound, let path, case let folder = (path as NSString).deletingLastPathComponent,
    folder.isEmpty || (FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) && isFolder.boolValue)
  {
    return failure(
      "there is no log at \(path); import events first (partnersync --db \(path) import FILE), run partnersync demo, or point --db or PARTNERSYNC_DB at an existing log.",
      Exit.code(for: error))
  }
  let hint = hint(for: error)
  let text = error.description
  return failure("\(text)\(hint.isEmpty || text.hasSuffix(".") ? "" : ".")\(hint)", Exit.code(for: error))
}

private func hint(for error: PartnerSyncError) -> String {
  switch error.code {
  case .busy: " Nothing was appended; run the command again (--wait SECONDS waits longer for the other writer)."
  case .unavailable: " Nothing was appended; run the command again once the database server is up."
  case .versionConflict: " Nothing was appended; run the command again."
  case .positionNotReached: " --wait SECONDS waits longer."
  case .corruptLog: " Run `partnersync verify` to check the log."
  case .unknownTicket: " `partnersync log` lists the events of every ticket in the log."
  case .unknownEntry: " `partnersync log --ticket TICKET` lists the ticket's events and their entries."
  default: ""
  }
}

/// Buffered writing to standard output.
struct Output {
  private var buffer: [UInt8] = []

  init() { buffer.reserveCapacity(1 << 16) }

  mutating func line(_ text: String, terminator: Bool = true) {
    buffer.append(contentsOf: text.utf8)
    if terminator { buffer.append(0x0A) }
    if buffer.count >= 1 << 16 { flush() }
  }

  mutating func flush() {
    guard !buffer.isEmpty else { return }
    buffer.withUnsafeBufferPointer { p in
      var offset = 0
      while offset < p.count {
        let written = write(1, p.baseAddress! + offset, p.count - offset)
        if written < 0 {
          if errno == EINTR { continue }
          if errno == EPIPE { break }  // a reader that stopped reading (`| head`): nothing more to write
          // A full disk or a closed standard output: never a silent success with half the output.
          let reason = String(cString: strerror(errno))
          _ = failure(
            "cannot write to standard output (\(reason)); what was written is incomplete. Free space or write elsewhere, and run the command again.",
            Exit.software)
          exit(Exit.software)
        }
        offset += written
      }
    }
    buffer.removeAll(keepingCapacity: true)
  }
}

/// Writes `lines` to standard output.
func printLines(_ lines: [String]) {
  var out = Output()
  lines.forEach { out.line($0) }
  out.flush()
}

/// Prints a JSON document on one line.
func printJSON(_ value: JSONValue) { printLines([value.jsonText]) }

/// Refuses to write to a log whose file exists with no write permission at all (SQLite, run as
/// root, would write to it anyway): one line saying what was not done (`nothingDone`) and what to
/// do, and exit 66.
func refuseWriteProtected(_ path: String, nothingDone: String, instead: String) throws {
  var status = stat()
  guard stat(path, &status) == 0, status.st_mode & 0o222 == 0 else { return }
  throw failure(
    "the log \(path) is read-only (its file has no write permission); \(nothingDone). Make it writable (chmod u+w \(path)) or \(instead).",
    Exit.noInput)
}
