import Foundation
import PartnerSync

/// What one run measured, and how it prints.
struct Figures {
  var events: Int
  var tickets: Int
  var rounds: Int
  /// The log measured, as the table names it: SQLite or PostgreSQL.
  var backend = "SQLite"
  /// Where the logs were: a directory, or a PostgreSQL log's URL.
  var directory = ""
  var appends = 0
  var coldAppends = 0
  var rawCommits = 0
  var coldAppendSeconds = 0.0
  var replayedEvents = 0
  var appendSeconds = 0.0
  var rawCommitSeconds = 0.0
  // Rates are medians over the rounds; each ratio is the median of the rounds' ratios (each
  // round measures PartnerSync and raw SQLite one right after the other).
  var importRate = 0.0
  var rawInsertRate = 0.0
  var importRatio = 0.0
  var freshImportRate = 0.0
  var freshRawInsertRate = 0.0
  var freshImportRatio = 0.0
  var replayRate = 0.0
  var rawScanRate = 0.0
  var replayRatio = 0.0
  var verifyRate = 0.0
  var verifyRatio = 0.0
  var rawGroupedScanRate = 0.0
  var viewP50 = 0.0
  var viewP99 = 0.0
  var auditP50 = 0.0
  var auditP99 = 0.0
  var outboxPageP50 = 0.0
  var outboxPageP99 = 0.0
  var replayPeakRSSMB = 0.0
  /// PostgreSQL only: appends per second of all writers together, for each number of writer
  /// processes.
  var writerRates: [(writers: Int, rate: Double)] = []

  var appendRate: Double { Double(appends) / appendSeconds }
  var rawCommitRate: Double { Double(rawCommits) / rawCommitSeconds }
  var coldAppendRate: Double { Double(coldAppends) / coldAppendSeconds }

  /// The targets of import, durable append and replay, as ratios to the raw reference.
  var targets: (import: Double, append: Double, replay: Double) {
    backend == "SQLite" ? (0.7, 0.9, 0.33) : (0.5, 0.8, 0.25)
  }

  /// The one JSON line of `--json`, with exactly the documented keys.
  var jsonLine: String {
    JSONValue.object(
      [
        ("events", .number(Double(events))),
        ("import_per_s", .number(importRate.rounded())),
        ("raw_insert_per_s", .number(rawInsertRate.rounded())),
        ("import_ratio", .number(rounded(importRatio, 3))),
        ("append_per_s", .number(rounded(appendRate, 1))),
        ("raw_commit_per_s", .number(rounded(rawCommitRate, 1))),
        ("append_ratio", .number(rounded(appendRate / rawCommitRate, 3))),
        ("replay_per_s", .number(replayRate.rounded())),
        ("raw_scan_per_s", .number(rawScanRate.rounded())),
        ("replay_ratio", .number(rounded(replayRatio, 3))),
        ("view_p50_ms", .number(rounded(viewP50, 3))),
        ("view_p99_ms", .number(rounded(viewP99, 3))),
        ("audit_p50_ms", .number(rounded(auditP50, 3))),
        ("audit_p99_ms", .number(rounded(auditP99, 3))),
        ("outbox_page_p50_ms", .number(rounded(outboxPageP50, 3))),
        ("outbox_page_p99_ms", .number(rounded(outboxPageP99, 3))),
        ("verify_per_s", .number(verifyRate.rounded())),
        ("verify_ratio", .number(rounded(verifyRatio, 3))),
        ("replay_peak_rss_mb", .number(rounded(replayPeakRSSMB, 1))),
      ] + writerRates.map { ("append_rate_writers_\($0.writers)", .number(rounded($0.rate, 1))) }
    ).jsonText
  }

  /// The human-readable table.
  var table: String {
    func rate(_ value: Double) -> String { "\(Int(value.rounded()))/s" }
    func pad(_ text: String, _ width: Int) -> String {
      text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
    func target(_ ratio: Double) -> String { String(format: ">= %.2f", ratio) }
    var rows: [(String, String, String, String, String)] = [
      ("import (1 transaction)", rate(importRate), rate(rawInsertRate), format(importRatio), target(targets.import)),
      ("  (processes of their own)", rate(freshImportRate), rate(freshRawInsertRate), format(freshImportRatio), ""),
      (
        "durable append (1 per txn)", String(format: "%.1f/s", appendRate), String(format: "%.1f/s", rawCommitRate),
        format(appendRate / rawCommitRate), target(targets.append)
      ),
      (
        "  (log opened afresh)", String(format: "%.1f/s", coldAppendRate), "", format(coldAppendRate / rawCommitRate),
        ""
      ),
      ("replay", rate(replayRate), rate(rawScanRate), format(replayRatio), target(targets.replay)),
      ("verify", rate(verifyRate), rate(rawScanRate), format(verifyRatio), ""),
      ("(raw scan by stream, version)", "", rate(rawGroupedScanRate), "", ""),
      ("view p50 / p99", "\(format(viewP50)) / \(format(viewP99)) ms", "", "", "p99 <= 1 ms"),
      ("audit p50 / p99", "\(format(auditP50)) / \(format(auditP99)) ms", "", "", "p99 <= 1 ms"),
      (
        "outbox page of 100 p50 / p99", "\(format(outboxPageP50)) / \(format(outboxPageP99)) ms", "", "",
        "p99 <= 1 ms"
      ),
      ("replay peak RSS", String(format: "%.1f MB", replayPeakRSSMB), "", "", "<= 300 MB"),
    ]
    if freshImportRate == 0 { rows.remove(at: 1) }  // PostgreSQL: not measured
    rows += writerRates.map { ("append, \($0.writers) writer processes", rate($0.rate), "", "", "") }
    var lines = [
      "PartnerSync benchmark: \(events) events over \(tickets) tickets, +\(appends + coldAppends) appended one by one; in \(directory)",
      "(import, replay and verify: medians of \(rounds) rounds, each ratio the median of the rounds' ratios)",
      "",
      pad("figure", 30) + pad("PartnerSync", 24) + pad("raw \(backend)", 16) + pad("ratio", 8) + "target",
    ]
    for row in rows {
      lines.append(pad(row.0, 30) + pad(row.1, 24) + pad(row.2, 16) + pad(row.3, 8) + row.4)
    }
    return lines.joined(separator: "\n")
  }
}
