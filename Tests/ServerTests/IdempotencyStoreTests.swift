import Foundation
import PartnerSyncDomain
import Testing

@testable import PartnerSyncServer

/// The file of `Idempotency-Key`s stays bounded while the server runs: keys older than the
/// retention go at each compaction, not only when the server starts.
struct IdempotencyStoreTests {
  private func record(_ key: String, at now: Timestamp) -> IdempotencyStore.Record {
    .init(partner: "acme", key: key, request: "r", ticket: "T-1", base: 0, now: now.microseconds, answer: "{}")
  }

  private func lines(_ store: IdempotencyStore) throws -> Int {
    try Data(contentsOf: URL(fileURLWithPath: store.path)).split(separator: 0x0A).count
  }

  @Test func keysPastTheRetentionAreDroppedWhileTheServerRuns() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("idempotency-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let logPath = folder.appendingPathComponent("log.sqlite").path
    let start = Timestamp(microseconds: 1_800_000_000_000_000)
    let store = try IdempotencyStore(statePath: logPath, now: start, compactingAfter: 8)
    for n in 0..<7 { try store.write(record("old-\(n)", at: start), now: start) }
    #expect(try lines(store) == 7)
    // A day and an hour later: the eighth line compacts the file, and the old keys go.
    let later = Timestamp(microseconds: start.microseconds + IdempotencyStore.retention + 3_600_000_000)
    try store.write(record("new", at: later), now: later)
    #expect(try lines(store) == 1)
    #expect(store.record(partner: "acme", key: "old-0") == nil)
    #expect(store.record(partner: "acme", key: "new")?.answer == "{}")
    // Written on after the compaction, and read back whole by the next server.
    try store.write(record("newer", at: later), now: later)
    let reopened = try IdempotencyStore(statePath: logPath, now: later)
    #expect(
      reopened.record(partner: "acme", key: "new") != nil && reopened.record(partner: "acme", key: "newer") != nil)
    #expect(try lines(reopened) == 2)
  }

  @Test func keysWithinTheRetentionAreKeptByACompaction() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("idempotency-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let now = Timestamp(microseconds: 1_800_000_000_000_000)
    let store = try IdempotencyStore(
      statePath: folder.appendingPathComponent("log.sqlite").path, now: now, compactingAfter: 4)
    for n in 0..<10 { try store.write(record("k\(n)", at: now), now: now) }
    #expect((0..<10).allSatisfy { store.record(partner: "acme", key: "k\($0)") != nil })
    // Compacted at 4 lines, then at 8 (twice the 4 kept): 8 kept, 2 written since.
    #expect(try lines(store) == 10)
  }
}
