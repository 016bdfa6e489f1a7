import ArgumentParser
import Foundation
import PartnerSync

@main
struct PartnerSyncCommand: ParsableCommand {
  @OptionGroup var global: GlobalOptions

  static let configuration = CommandConfiguration(
    commandName: "partnersync",
    abstract: "Replay, inspect and audit partner ticket histories.",
    discussion: """
      PartnerSync keeps every partner action on an outsourced ticket as an immutable event in an \
      append-only SQLite log, and shows each partner's version of the ticket and why every entry \
      did or did not reach the other side.

      The log is --db PATH, or $PARTNERSYNC_DB, or partnersync.sqlite in the current folder.

      Exit codes: 0 success, 1 verify found damage, 64 wrong usage, 65 bad input data (nothing \
      appended), 66 the log, ticket, partner, entry or file does not exist, or the log cannot be \
      used, 70 internal error, 75 the log stayed busy or changed under the writer (nothing \
      appended; try again), or did not reach the position a read waits for within --wait (a \
      replica that has not replayed it yet). Errors are one line on standard error that starts with "error: ".
      """,
    version: "0.1.0",
    subcommands: [
      Demo.self, Import.self, Export.self, Log.self, View.self, Audit.self, Notifications.self,
      Deliver.self, Replay.self, Verify.self,
    ]
  )

  /// Runs the command; every error ends as one line `error: …` on standard error and its exit
  /// code (the parser's own errors included: they would otherwise print `Error: …` and the
  /// usage over several lines).
  static func main() {
    do {
      var command = try parseAsRoot()
      try command.run()
    } catch let code as ExitCode {
      // The command printed its message already.
      Foundation.exit(code.rawValue)
    } catch let error as PartnerSyncError {
      Foundation.exit(fail(error).rawValue)
    } catch {
      let code = exitCode(for: error)
      // --help and --version print to standard output and succeed.
      guard code != .success else { exit(withError: error) }
      // Anything that is not wrong usage is an internal error (never 1, which is verify's).
      Foundation.exit(
        failure(usageMessage(for: error), code == .validationFailure ? Exit.usage : Exit.software).rawValue)
    }
  }

  /// The parser's message for `error` on one line, with where to read the usage.
  static func usageMessage(for error: any Error) -> String {
    var text = message(for: error).split(whereSeparator: \.isNewline).map {
      $0.trimmingCharacters(in: .whitespaces)
    }.filter { !$0.isEmpty }.joined(separator: "; ")
    if let first = text.first, first.isUppercase, text.dropFirst().first?.isLowercase == true {
      text = first.lowercased() + text.dropFirst()
    }
    if text.isEmpty { text = "wrong usage" }
    let names = Set(configuration.subcommands.map { $0._commandName })
    let command = CommandLine.arguments.dropFirst().first { names.contains($0) }
    let help = command.map { "partnersync \($0) --help" } ?? "partnersync --help"
    return text + (text.hasSuffix(".") ? "" : ".") + " See \(help) for the usage."
  }
}
