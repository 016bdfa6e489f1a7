// Measures whether asynchronous writes that wait for another process's lock hold up Swift
// concurrency's cooperative pool. Run by the tests in a process of its own, so that no other test
// shares its pool:
//
//     PartnerSyncWaitProbe LOG-PATH [RECORDS] [LOCK-SECONDS]
//
// It creates the log, has another process (python3's sqlite3) take SQLite's write lock for
// LOCK-SECONDS (2), then starts RECORDS (4) asynchronous records that wait for the lock, while a
// task sleeps 50 ms again and again and measures how late each wakeup is. It prints one JSON
// object: the worst lateness, how many records succeeded, and when the first and the last finished.

import Foundation
import PartnerSync

/// A value shared between tasks.
final class Shared<Value: Sendable>: @unchecked Sendable {
  // @unchecked Sendable: `value` is read and written under `lock` only.
  private let lock = NSLock()
  private var stored: Value
  init(_ value: Value) { stored = value }
  var value: Value {
    get { lock.withLock { stored } }
    set { lock.withLock { stored = newValue } }
  }
}

/// Milliseconds from `start` to now.
func milliseconds(since start: ContinuousClock.Instant) -> Double {
  (ContinuousClock.now - start) / .milliseconds(1)
}

/// Sleeps 50 ms again and again until `done`, signalling `started` after its first wakeup; the
/// worst lateness of a wakeup, in milliseconds, and how many wakeups there were.
nonisolated func tick(until done: Shared<Bool>, started: Shared<Bool>) async throws -> (worst: Double, ticks: Int) {
  var worst = 0.0
  var ticks = 0
  while !done.value {
    let before = ContinuousClock.now
    try await Task.sleep(for: .milliseconds(50))
    worst = max(worst, milliseconds(since: before) - 50)
    ticks += 1
    started.value = true
  }
  return (worst, ticks)
}

/// Records `count` events (each outsourcing a ticket of its own) at once, each in a task of its own;
/// when each finished, in milliseconds after `start`, and how many succeeded.
nonisolated func recordAll(
  _ log: PartnerSyncLog, count: Int, start: ContinuousClock.Instant
) async -> (finished: [Double], succeeded: Int, errors: [String]) {
  await withTaskGroup(of: (Double, String?).self) { group in
    for index in 1...count {
      group.addTask {
        let event = TicketEvent(ticket: "W-\(index)", by: "acme", .outsourced(Outsourcing(partner: "bolt")))
        do throws(PartnerSyncError) {
          try await log.record([event])
          return (milliseconds(since: start), nil)
        } catch {
          return (milliseconds(since: start), error.description)
        }
      }
    }
    var finished: [Double] = []
    var errors: [String] = []
    for await (at, error) in group {
      finished.append(at)
      if let error { errors.append(error) }
    }
    return (finished.sorted(), count - errors.count, errors)
  }
}

/// Starts another process that takes the log's write lock for `seconds`, and returns once it
/// holds it.
func holdLock(of path: String, seconds: Double) throws -> Process {
  let script = """
    import sqlite3, sys, time
    c = sqlite3.connect(sys.argv[1], isolation_level=None)
    c.execute('BEGIN IMMEDIATE')
    print('locked', flush=True)
    time.sleep(float(sys.argv[2]))
    c.execute('ROLLBACK')
    """
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
  process.arguments = ["python3", "-c", script, path, "\(seconds)"]
  let output = Pipe()
  process.standardOutput = output
  try process.run()
  var line = Data()
  while !line.contains(UInt8(ascii: "\n")) {
    let chunk = output.fileHandleForReading.availableData
    guard !chunk.isEmpty else { break }
    line += chunk
  }
  guard String(decoding: line, as: UTF8.self).hasPrefix("locked") else {
    throw PartnerSyncError(.storage, "the lock holder did not take the lock")
  }
  return process
}

/// Runs the measurement, off the main actor: every task here runs on the cooperative pool.
nonisolated func measure(path: String, records: Int, lockSeconds: Double) async throws -> String {
  let log = try await PartnerSyncLog.open(path: path, create: true, wait: .seconds(30))
  try await log.record([TicketEvent(ticket: "W-0", by: "acme", .outsourced(Outsourcing(partner: "bolt")))])
  let holder = try holdLock(of: path, seconds: lockSeconds)
  let start = ContinuousClock.now
  let done = Shared(false)
  let started = Shared(false)
  async let timer = tick(until: done, started: started)
  // The records start once the timer is sleeping, so that its wakeups fall in their wait.
  while !started.value { try await Task.sleep(for: .milliseconds(1)) }
  let recorded = await recordAll(log, count: records, start: start)
  done.value = true
  let (worst, ticks) = try await timer
  holder.waitUntilExit()
  let object: [String: Any] = [
    "worstLatenessMs": worst, "ticks": ticks, "records": records, "succeeded": recorded.succeeded,
    "errors": recorded.errors, "firstFinishedMs": recorded.finished.first ?? 0,
    "lastFinishedMs": recorded.finished.last ?? 0, "lockMs": lockSeconds * 1000,
  ]
  let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
  return String(decoding: data, as: UTF8.self)
}

@main
struct PartnerSyncWaitProbe {
  static func main() async throws {
    let arguments = CommandLine.arguments.dropFirst()
    guard let path = arguments.first else {
      FileHandle.standardError.write(Data("usage: PartnerSyncWaitProbe LOG-PATH [RECORDS] [LOCK-SECONDS]\n".utf8))
      exit(64)
    }
    let records = arguments.dropFirst().first.flatMap { Int($0) } ?? 4
    let lockSeconds = arguments.dropFirst(2).first.flatMap { Double($0) } ?? 2
    print(try await measure(path: path, records: records, lockSeconds: lockSeconds))
  }
}
