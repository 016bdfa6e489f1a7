import Foundation
import Synchronization
import Testing

@testable import PartnerSync
@testable import PartnerSyncDomain

/// `waitUntil(position:timeout:)`, the wait of read-your-writes: it returns once the log holds the
/// position, whoever appends it, and fails with `positionNotReached` once the timeout has passed.
/// (Against a real streaming replica: `Scripts/postgres-replica`.)
@Suite("Waiting for a position")
struct WaitForPositionTests {
  static let ev = EventBuilder()

  /// The result of an append made by ``appendLater(to:)``, once there.
  final class Written: Sendable {
    let result = Mutex<Result<RecordResult, PartnerSyncError>?>(nil)
  }

  /// Appends position 3 to `log` 0.1 s from now, from a thread of its own: outside every pool that
  /// other tests keep busy (a wait may then take long on a busy machine; what counts is that it
  /// returns).
  @discardableResult
  static func appendLater(to log: PartnerSyncLog) -> Written {
    let written = Written()
    Thread.detachNewThread {
      Thread.sleep(forTimeInterval: 0.1)
      let result = Result { () throws(PartnerSyncError) in
        try log.record([ev.added("n1", by: "acme", .note, text: "late")], now: Ticket.start)
      }
      written.result.withLock { $0 = result }
    }
    return written
  }

  @Test("a position the log holds returns at once; one appended meanwhile by another writer ends the wait")
  func returnsOncePositionIsThere() throws {
    let log = try SubscriptionTests.log(notes: 0)
    try log.waitUntil(position: 2, timeout: .zero)
    Self.appendLater(to: log)
    let clock = ContinuousClock()
    let start = clock.now
    try log.waitUntil(position: 3, timeout: .seconds(60))
    #expect(clock.now - start >= .milliseconds(100))
    #expect(try log.lastPosition() == 3)
  }

  @Test("a position the log does not reach fails with positionNotReached after the timeout, not before")
  func failsAfterTimeout() throws {
    let log = try SubscriptionTests.log(notes: 0)
    let clock = ContinuousClock()
    let start = clock.now
    #expect {
      try log.waitUntil(position: 3, timeout: .milliseconds(200))
    } throws: { error in
      (error as? PartnerSyncError)?.code == .positionNotReached
        && (error as? PartnerSyncError)?.message.contains("not yet position 3") == true
    }
    let elapsed = clock.now - start
    #expect(elapsed >= .milliseconds(200) && elapsed < .seconds(2))
  }

  @Test("the asynchronous wait returns once another writer appends the position, and fails after its timeout")
  func asyncWaitReturnsOrFails() async throws {
    let log = try SubscriptionTests.log(notes: 0)
    try await log.waitUntil(position: 2, timeout: .zero)
    let written = Self.appendLater(to: log)
    let clock = ContinuousClock()
    let start = clock.now
    do {
      try await log.waitUntil(position: 3, timeout: .seconds(60))
    } catch {
      Issue.record("\(error); the writer: \(String(describing: written.result.withLock { $0 }))")
      throw error
    }
    #expect(clock.now - start >= .milliseconds(100))
    #expect(try log.lastPosition() == 3)
    do throws(PartnerSyncError) {
      try await log.waitUntil(position: 4, timeout: .milliseconds(200))
      Issue.record("the wait for a position the log never reaches returned")
    } catch {
      #expect(error.code == .positionNotReached)
      #expect(error.message.contains("not yet position 4"))
    }
    #expect(clock.now - start >= .milliseconds(300))
  }

  @Test("a cancelled asynchronous wait fails at once and says it was cancelled, not how long it would have waited")
  func cancelledWaitSaysSo() async throws {
    let log = try SubscriptionTests.log(notes: 0)
    let waiting = Task { () async -> PartnerSyncError? in
      do throws(PartnerSyncError) {
        try await log.waitUntil(position: 9, timeout: .seconds(60))
        return nil
      } catch {
        return error
      }
    }
    try await Task.sleep(for: .milliseconds(100))
    waiting.cancel()
    let error = try #require(await waiting.value, "the cancelled wait returned")
    #expect(error.code == .positionNotReached)
    #expect(error.message.contains("when the wait was cancelled after "), "\(error.message)")
    #expect(!error.message.contains(" 60 s"), "\(error.message)")
  }
}
