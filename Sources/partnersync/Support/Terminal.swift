import Foundation
import PartnerSync

/// What the terminal allows: colours only on a terminal and never with `NO_COLOR`; progress only
/// when standard error is a terminal.
enum Terminal {
  static let stderrIsTTY = isatty(2) == 1
  static let noColor = !(ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty
  /// Colours for standard output.
  static let colorsOnStdout = isatty(1) == 1 && !noColor
  /// Colours for standard error.
  static let colorsOnStderr = stderrIsTTY && !noColor

  /// `text` in the ANSI colour `color` ("31" red, "32" green, "33" yellow, "36" cyan) when `enabled`.
  static func paint(_ text: String, _ color: String, enabled: Bool) -> String {
    enabled ? "\u{1B}[\(color)m\(text)\u{1B}[0m" : text
  }

  /// The colour of an outcome in tables.
  static func color(for outcome: SyncOutcome) -> String {
    switch outcome {
    case .synced, .released: "32"
    case .notSynced: "33"
    case .held: "36"
    case .dropped: "31"
    }
  }
}

/// A progress bar on standard error, shown only on a terminal, only for operations that take more
/// than a moment, and never with `--quiet`.
final class ProgressBar {
  private let enabled: Bool
  private let start = ContinuousClock.now
  private var lastDraw: ContinuousClock.Instant?

  init(quiet: Bool) { enabled = !quiet && Terminal.stderrIsTTY }

  /// The handler to give to the library.
  var handler: ProgressHandler? { enabled ? { [self] in update($0) } : nil }

  func update(_ progress: ProgressReport) {
    let now = ContinuousClock.now
    guard now - start > .milliseconds(800), lastDraw.map({ now - $0 >= .milliseconds(100) }) ?? true else { return }
    lastDraw = now
    var line = "\(progress.phase.rawValue)…"
    if let total = progress.total, total > 0 {
      let fraction = min(1, Double(progress.done) / Double(total))
      let filled = Int(fraction * 30)
      let unit = progress.phase == .reading ? "bytes" : "events"
      line =
        "[\(String(repeating: "#", count: filled) + String(repeating: ".", count: 30 - filled))] "
        + String(format: "%3d%% ", Int(fraction * 100)) + "\(progress.phase.rawValue) \(progress.done)/\(total) \(unit)"
    }
    FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
  }

  /// Clears the bar.
  func finish() {
    if lastDraw != nil { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
  }
}
