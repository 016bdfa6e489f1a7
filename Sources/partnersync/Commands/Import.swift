import ArgumentParser
import Foundation
import PartnerSync

struct Import: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Validate a JSON Lines file of events and append all of them in one transaction.",
    discussion: """
      Every line is checked against the event format and the rules before anything is written. \
      The first bad line fails the whole file: the error names the file, the line and the reason, \
      and nothing is appended. A line without "at" is recorded at the time of import; "position" \
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
    let input = try readInput()
    let path = global.path
    let result: RecordResult
    do {
      let bar = ProgressBar(quiet: global.quiet)
      defer { bar.finish() }
      if !global.isURL, FileManager.default.fileExists(atPath: path) {
        try refuseWriteProtected(path, nothingDone: "nothing was imported", instead: "import into another log")
        let log = try global.openLog(create: true)
        result = try input.withUnsafeBytes {
          try log.importJSONLines($0, now: Timestamp.now(), keepingDecisions: false, progress: bar.handler)
        }
      } else {
        // Created with the import, or not at all; a PostgreSQL log that exists is imported into
        // (see `PartnerSyncLog.importJSONLines(_:intoNewLogAt:)`).
        do {
          result = try input.withUnsafeBytes {
            try PartnerSyncLog.importJSONLines(
              $0, intoNewLogAt: path, wait: global.waitDuration, now: Timestamp.now(), keepingDecisions: false,
              progress: bar.handler)
          }
        } catch let error as PartnerSyncError where error.code == .logNotFound && global.isURL {
          throw fail(error, path: path)
        }
      }
    } catch let error as PartnerSyncError where error.code == .invalidEvent && error.line != nil {
      let line = error.line!
      throw failure(
        "\(displayName):\(line): \(error.message) — nothing was imported; fix line \(line) and import the file again.",
        Exit.dataError)
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
      printLines([
        "Imported \(plural(result.count, "event")) from \(displayName) into \(global.logName): positions \(result.firstPosition)–\(result.lastPosition), \(plural(result.decisionCount, "sync decision"))."
      ])
    }
  }

  private var displayName: String { file == "-" ? "<stdin>" : file }

  private func readInput() throws -> Data {
    if file == "-" { return FileHandle.standardInput.readDataToEndOfFile() }
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory) else {
      throw failure(
        "\(file) does not exist; give the path of a JSON Lines file of events, or - for standard input.", Exit.noInput)
    }
    // Read once, then imported in place. (Not mapped: a file truncated meanwhile would then stop
    // the program with a bus error instead of a message about its last line.) A pipe, such as
    // `<(gunzip -c events.jsonl.gz)`, or a device has no size to read at once: read to its end.
    let isRegular =
      (try? FileManager.default.attributesOfItem(atPath: file)[.type] as? FileAttributeType) == .typeRegular
    let data: Data? =
      if isDirectory.boolValue {
        nil
      } else if isRegular {
        try? Data(contentsOf: URL(fileURLWithPath: file))
      } else {
        FileHandle(forReadingAtPath: file).flatMap { handle in try? handle.readToEnd() ?? Data() }
      }
    guard let data else {
      throw failure("\(file) cannot be read; give the path of a readable JSON Lines file.", Exit.noInput)
    }
    return data
  }
}
