import ArgumentParser
import Foundation
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
    let existed = FileManager.default.fileExists(atPath: path)
    let log = try report { try PartnerSyncLog.open(path: path, create: true) }
    let result: RecordResult
    do {
      let bar = ProgressBar(quiet: global.quiet)
      defer { bar.finish() }
      result = try log.importJSONLines(bytes, now: Timestamp.now(), progress: bar.handler)
    } catch {
      if !existed {
        // A failed first import leaves no trace: not even an empty log.
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
      }
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
          ("decisions", .number(Double(result.decisions.count))),
        ]))
    case .text:
      guard !global.quiet else { return }
      var out = Output()
      out.line(
        "Imported \(result.count) event\(result.count == 1 ? "" : "s") from \(displayName) into \(global.path): positions \(result.firstPosition)–\(result.lastPosition), \(result.decisions.count) sync decision\(result.decisions.count == 1 ? "" : "s")."
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
    guard !isDirectory.boolValue, let data = FileManager.default.contents(atPath: file) else {
      printError("error: \(file) cannot be read; give the path of a readable JSON Lines file.")
      throw ExitCode(Exit.noInput)
    }
    return [UInt8](data)
  }
}
