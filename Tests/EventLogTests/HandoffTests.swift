import Foundation
import Testing

@testable import EventLog

/// The queue between the threads of an append, an import or a replay: a thread waiting on either side must be
/// released when the exchange ends, or the thread that ends it waits forever to join it.
@Suite("Handoff")
struct HandoffTests {
  /// Whether `body`, run on a thread of its own, returns within a few seconds once `end` has run.
  static func returns(_ body: @escaping @Sendable () -> Void, after end: () -> Void) -> Bool {
    let done = DispatchSemaphore(value: 0)
    Thread {
      body()
      done.signal()
    }.start()
    Thread.sleep(forTimeInterval: 0.05)  // so that `body` is waiting when `end` runs
    end()
    return done.wait(timeout: .now() + 5) == .success
  }

  @Test func aConsumerWaitingForABatchGetsNoneOnceCancelled() {
    let handoff = Handoff<Int>(capacity: 1)
    let taken = Locked<Int?>(-1)
    let returned = Self.returns({ taken.value = (try? handoff.take()) ?? nil }, after: { handoff.cancel() })
    #expect(returned)
    #expect(taken.value == nil)
  }

  @Test func aProducerWaitingForRoomStopsOnceCancelled() {
    let handoff = Handoff<Int>(capacity: 1)
    #expect(handoff.put(1))
    let put = Locked<Bool?>(nil)
    let returned = Self.returns({ put.value = handoff.put(2) }, after: { handoff.cancel() })
    #expect(returned)
    #expect(put.value == false)
  }

  /// What a worker's body captured (a log, with its connection, in a replay) is released by the
  /// time `join()` returns, not later on the worker's thread.
  @Test func aWorkerLetsGoOfWhatItsBodyCapturedBeforeJoinReturns() {
    final class Captured: Sendable {}
    var kept = 0
    for _ in 0..<200 {
      weak var watched: Captured?
      do {
        let captured = Captured()
        watched = captured
        Worker(name: "test") { _ = captured }.join()
      }
      if watched != nil { kept += 1 }
    }
    #expect(kept == 0, "\(kept) of 200 bodies were still held after join()")
  }

  @Test func batchesComeInOrderThenTheProducersError() throws {
    struct Stop: Error {}
    let handoff = Handoff<Int>(capacity: 4)
    #expect(handoff.put(1) && handoff.put(2))
    handoff.finish(throwing: Stop())
    #expect(try handoff.take() == 1)
    #expect(try handoff.take() == 2)
    #expect(throws: Stop.self) { try handoff.take() }
  }
}

/// A value read and written under a lock, for the threads of these tests.
final class Locked<Value: Sendable>: @unchecked Sendable {
  // @unchecked Sendable: `stored` is only touched while holding `lock`.
  private let lock = NSLock()
  private var stored: Value

  init(_ value: Value) {
    stored = value
  }

  var value: Value {
    get { lock.withLock { stored } }
    set { lock.withLock { stored = newValue } }
  }
}
