import Foundation
import Testing

/// Where the command line meets its surroundings: standard output that cannot be written, input
/// that puts line breaks into messages, a byte order mark, a sample number already taken.
@Suite struct OutputEdgeTests {
  /// The error lines of `result` (standard error, split into lines).
  func errorLines(_ result: CLI.Result) -> [Substring] { result.err.split(separator: "\n") }

  @Test func anOutputThatCannotBeWrittenIsAnErrorNotASuccess() throws {
    try withTemporaryDirectory { dir in
      let db = dir.appendingPathComponent("log.sqlite")
      #expect(try CLI.run(["--db", db.path, "demo", "--quiet"]).code == 0)
      for arguments in [["export"], ["view", "DEMO-1001", "--as", "bolt", "--format", "json"]] {
        let process = Process()
        process.executableURL = CLI.binary
        process.arguments = ["--db", db.path] + arguments
        process.standardOutput = try #require(FileHandle(forWritingAtPath: "/dev/full"))
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 70, "\(arguments): \(message)")
        #expect(message.hasPrefix("error: cannot write to standard output (No space left on device)"), "\(message)")
        #expect(message.split(separator: "\n").count == 1)
      }
    }
  }

  @Test func aMessageQuotingALineBreakStaysOneLine() throws {
    try withTemporaryDirectory { dir in
      let db = dir.appendingPathComponent("log.sqlite")
      let line = #"{"type":"foo\nbar","ticket":"T-1","by":"acme"}"#
      let result = try CLI.run(["--db", db.path, "import", "-"], stdin: Data(line.utf8))
      #expect(result.code == 65)
      #expect(errorLines(result).count == 1, "\(result.err)")
      #expect(result.err.contains(#"unknown event type 'foo\nbar'"#), "\(result.err)")
      #expect(try CLI.run(["--db", db.path, "demo", "--quiet"]).code == 0)
      let view = try CLI.run(["--db", db.path, "view", "A\nB", "--as", "acme"])
      #expect(errorLines(view).count == 1 && view.err.contains(#"A\nB"#), "\(view.err)")
    }
  }

  @Test func aByteOrderMarkBeforeTheFirstLineIsSkipped() throws {
    try withTemporaryDirectory { dir in
      let db = dir.appendingPathComponent("log.sqlite")
      let line = #"{"type":"outsourced","ticket":"T-1","by":"acme","partner":"bolt"}"#
      let result = try CLI.run(["--db", db.path, "import", "-"], stdin: Data([0xEF, 0xBB, 0xBF] + Array(line.utf8)))
      #expect(result.code == 0, "\(result.err)")
      #expect(result.out.contains("1 event"), "\(result.out)")
    }
  }

  @Test func demoRefusesAnotherTicketUnderTheSampleNumber() throws {
    try withTemporaryDirectory { dir in
      let db = dir.appendingPathComponent("log.sqlite")
      let line = #"{"type":"entry-added","ticket":"DEMO-1001","by":"zed","entry":"q","kind":"note"}"#
      #expect(try CLI.run(["--db", db.path, "import", "-"], stdin: Data(line.utf8)).code == 0)
      let result = try CLI.run(["--db", db.path, "demo"])
      #expect(result.code == 64, "\(result.err)")
      #expect(result.err.contains("already holds a ticket DEMO-1001 that is not the sample history"), "\(result.err)")
      #expect(!result.err.contains("showing it"))
      #expect(try CLI.run(["--db", db.path, "export"]).out.split(separator: "\n").count == 1, "nothing was written")
      // The sample itself, and the sample with events added since, are shown again.
      let sample = dir.appendingPathComponent("sample.sqlite")
      #expect(try CLI.run(["--db", sample.path, "demo", "--quiet"]).code == 0)
      let note = #"{"type":"entry-added","ticket":"DEMO-1001","by":"acme","entry":"x9","kind":"note"}"#
      #expect(try CLI.run(["--db", sample.path, "import", "-"], stdin: Data(note.utf8)).code == 0)
      let again = try CLI.run(["--db", sample.path, "demo"])
      #expect(again.code == 0 && again.err.contains("already holds the sample history"), "\(again.err)")
    }
  }

  @Test(arguments: [
    (["notifications", "--after", "-1"], "--after takes a log position from 0, not -1"),
    (["--wait", "-1", "log"], "--wait takes seconds from 0 to 86400, not -1.0"),
    (["--min-position", "-3", "log"], "--min-position takes a log position from 1, not -3"),
  ])
  func aNegativeValueIsRefusedForWhatItIs(arguments: [String], message: String) throws {
    try withTemporaryDirectory { dir in
      let db = dir.appendingPathComponent("log.sqlite")
      #expect(try CLI.run(["--db", db.path, "demo", "--quiet"]).code == 0)
      let result = try CLI.run(["--db", db.path] + arguments)
      #expect(result.code == 64)
      #expect(result.err.contains(message), "\(result.err)")
    }
  }
}
