import Crypto
import Foundation
import PartnerSync
import PartnerSyncDomain

/// The `Idempotency-Key`s of recorded batches: a JSON Lines file next to the log
/// (`LOG.idempotency`), so that a retried POST returns the first answer and appends nothing
/// twice, also after the server was killed between the append and the answer.
///
/// The key is not written in the log's own transaction (the event log's schema is the log's
/// alone); the check is derived from the log instead. Before a batch is appended, an *intent* is
/// written and synced to disk: the partner, the key, a hash of the request, the ticket's version
/// then, and the time given to the batch's events that carry none. After the append, the answer
/// is written. A retry that finds an answer returns it; one that finds only an intent looks in
/// the log, after that version, for the batch's events, stamped with that time: found, the batch
/// was appended and its answer is rebuilt from their positions; not found, it never was, and
/// the retry appends it. Every step runs on the server's one log queue, so two tries of one key
/// never overlap in one server.
///
/// A key is remembered for a day at least: entries older than that are dropped when the server
/// starts, and while it runs, each time the file has grown to twice the entries it kept (and at
/// least `compactingAfter` lines).
final class IdempotencyStore: @unchecked Sendable {
  // Sendable: every call runs on the log's own serial thread (``PartnerSyncLog/perform(_:)``).

  /// What is known of one key.
  struct Record: Codable {
    var partner: String
    var key: String
    /// The hex SHA-256 of the ticket and the body: a key reused for another request is refused.
    var request: String
    var ticket: String
    /// The ticket's version before the batch.
    var base: Int64
    /// The time given to the batch's events without `at` (microseconds since 1970).
    var now: Int64
    /// The answer's body, once the batch is appended.
    var answer: String?
  }

  let path: String
  private var records: [String: Record] = [:]
  private var handle: FileHandle?
  /// How long a key is remembered at least.
  static let retention: Int64 = 24 * 3600 * 1_000_000
  /// The fewest lines the file holds before it is compacted again.
  private let compactingAfter: Int
  /// The lines in the file, and how many make the next compaction.
  private var lines = 0
  private var compactAt = 0

  /// Opens the file `statePath.idempotency` (the server's state path: by default the log's),
  /// dropping the entries older than the retention.
  init(statePath: String, now: Timestamp = .now(), compactingAfter: Int = 4096) throws {
    path = statePath + ".idempotency"
    self.compactingAfter = compactingAfter
    if let data = FileManager.default.contents(atPath: path) {
      for line in data.split(separator: 0x0A) {
        // A line cut short by a crash is skipped: its batch is then found (or not) in the log.
        guard let record = try? JSONDecoder().decode(Record.self, from: line) else { continue }
        records[Self.slot(record.partner, record.key)] = record
      }
    }
    try compact(now: now)
  }

  /// Drops the entries older than the retention and writes the file again with the others: whole
  /// and synced, then renamed over the old one.
  private func compact(now: Timestamp) throws {
    records = records.filter { now.microseconds - $0.value.now < Self.retention }
    let encoder = Self.encoder
    var kept = Data()
    for record in records.values.sorted(by: { $0.now < $1.now }) {
      kept += try encoder.encode(record) + [0x0A]
    }
    let temporary = path + ".tmp"
    try kept.write(to: URL(fileURLWithPath: temporary))
    let written = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
    try written.synchronize()
    try written.close()
    guard rename(temporary, path) == 0 else { throw CocoaError(.fileWriteUnknown) }
    try handle?.close()
    handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    try handle?.seekToEnd()
    lines = records.count
    compactAt = max(compactingAfter, 2 * records.count)
  }

  private static var encoder: JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return encoder
  }

  private static func slot(_ partner: String, _ key: String) -> String { partner + "\u{0}" + key }

  /// The hash of a request: its ticket and its body.
  static func fingerprint(ticket: String, body: [UInt8]) -> String {
    KeyStore.hex(Array(SHA256.hash(data: Array(ticket.utf8) + [0] + body)))
  }

  func record(partner: String, key: String) -> Record? { records[Self.slot(partner, key)] }

  /// Writes `record` and syncs it to disk before returning; compacts the file when it is due.
  func write(_ record: Record, now: Timestamp = .now()) throws {
    records[Self.slot(record.partner, record.key)] = record
    try handle?.write(contentsOf: try Self.encoder.encode(record) + [0x0A])
    try handle?.synchronize()
    lines += 1
    if lines >= compactAt { try compact(now: now) }
  }
}

/// A server's hold on its state path: an exclusive lock (`flock`) of the file `PATH.lock`, for as
/// long as the server runs (the kernel lets it go when the process ends, also when killed). Two
/// servers on one state would each keep its own `Idempotency-Key`s in memory and write over the
/// other's; the second one is refused instead.
final class StateLock: Sendable {
  private let handle: FileHandle

  /// Takes the lock of `statePath`.
  /// - Throws: ``PartnerSyncError`` with code `busy` when another server holds it, `storage`
  ///   when the lock file cannot be made.
  init(statePath: String) throws(PartnerSyncError) {
    let path = statePath + ".lock"
    if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
    guard let handle = FileHandle(forUpdatingAtPath: path) else {
      throw PartnerSyncError(.storage, "cannot create \(path); check the folder's permissions")
    }
    guard flock(handle.fileDescriptor, LOCK_EX | LOCK_NB) == 0 else {
      throw PartnerSyncError(
        .busy,
        "another server uses the state \(statePath) (it holds \(path)): give each server a state of its own, as their Idempotency-Keys are their own, or stop the other one"
      )
    }
    self.handle = handle
  }

  deinit { try? handle.close() }
}
