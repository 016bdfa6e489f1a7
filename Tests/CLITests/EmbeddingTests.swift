import Foundation
import Testing

/// The example program that embeds the library is built with the tests and runs as documented.
@Suite struct EmbeddingTests {
  @Test func exampleProgramRuns() throws {
    let example = CLI.binary.deletingLastPathComponent().appendingPathComponent("PartnerSyncExample")
    let process = Process()
    process.executableURL = example
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
    #expect(output.contains("recorded positions 1–4"))
    #expect(output.contains("3 n1 → acme: synced (own-change-syncs)"))
    #expect(output.contains("refused: completion-approved refused"))
    #expect(output.contains("acme sees: n1 (internal-users-only), t1 (time)"))
    #expect(output.contains("followed: 1:outsourced 2:accepted 3:entry-added 4:entry-added"))
    #expect(output.contains("notify acme/dana: bolt logged time entry t1"))
    #expect(output.contains("checkpoint 4"))
  }

  @Test(arguments: ["bash", "zsh", "fish"])
  func completionScripts(_ shell: String) throws {
    let result = try CLI.run(["--generate-completion-script", shell])
    #expect(result.code == 0)
    #expect(result.out.contains("partnersync"))
    #expect(result.out.contains("notifications"))
  }

  @Test func colourOnlyOnATerminal() throws {
    try withTemporaryDirectory { dir in
      // Standard output is a file here, not a terminal: no escape codes, with or without NO_COLOR.
      let plain = try CLI.run(["demo"], in: dir)
      #expect(plain.code == 0)
      #expect(!plain.out.contains("\u{1B}["))
      #expect(!plain.err.contains("\u{1B}["))
    }
  }

  @Test func quietSilencesSummariesNotData() throws {
    try withTemporaryDirectory { dir in
      let db = dir.appendingPathComponent("log.sqlite").path
      let history = #"{"type":"outsourced","ticket":"T-1","by":"acme","partner":"bolt"}"#
      let quiet = try CLI.run(["--db", db, "import", "-", "--quiet"], stdin: Data(history.utf8))
      #expect(quiet.code == 0)
      #expect(quiet.out.isEmpty)
      #expect(quiet.err.isEmpty)
      let json = try CLI.run(["--db", db, "-q", "view", "T-1", "--as", "acme", "--format", "json"])
      #expect(json.out.contains("\"role\":\"lead\""))
    }
  }
}
