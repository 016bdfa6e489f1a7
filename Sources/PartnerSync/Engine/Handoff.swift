import EventLog
import Foundation

/// A bounded queue that hands batches from one producing thread to one consuming thread.
///
/// The producer blocks while `capacity` batches wait; the consumer blocks while none does. Either
/// side can end the exchange: the producer with ``finish(throwing:)`` (after its last batch, or
/// with the error that stopped it), the consumer with ``cancel()``, after which ``put(_:)``
/// returns `false` at once. The consumer may hand used batches back (``giveBack(_:)``) so that
/// the producer, which allocated them, also frees them (``takeBack()``): freeing memory on the
/// thread that allocated it is cheaper, and it takes that work off the consumer.
final class Handoff<Batch: Sendable>: @unchecked Sendable {
  // @unchecked Sendable: every stored property is read and written while holding `condition`.

  private let condition = NSCondition()
  private let capacity: Int
  private var batches: [Batch] = []
  private var returned: [Batch] = []
  private var finished = false
  private var failure: (any Error)?
  private var cancelled = false

  init(capacity: Int) {
    self.capacity = capacity
  }

  /// Queues `batch`, waiting while the queue is full; `false` when the consumer cancelled.
  func put(_ batch: Batch) -> Bool {
    condition.lock()
    defer { condition.unlock() }
    while batches.count >= capacity, !cancelled {
      condition.wait()
    }
    guard !cancelled else { return false }
    batches.append(batch)
    condition.broadcast()
    return true
  }

  /// Marks the end of the batches, or the error that ended them early.
  func finish(throwing error: (any Error)? = nil) {
    condition.lock()
    defer { condition.unlock() }
    finished = true
    failure = error
    condition.broadcast()
  }

  /// The next batch, waiting for one; `nil` after the last one, or once the exchange is cancelled.
  /// Rethrows the producer's error once the batches queued before it are taken.
  func take() throws -> Batch? {
    condition.lock()
    defer { condition.unlock() }
    while batches.isEmpty, !finished, !cancelled {
      condition.wait()
    }
    guard !cancelled else { return nil }
    guard !batches.isEmpty else {
      if let failure { throw failure }
      return nil
    }
    // The queue is short: removing from the front is cheap, and frees the batch's memory.
    let batch = batches.removeFirst()
    condition.broadcast()
    return batch
  }

  /// Hands a used batch back to the producer. The caller should hold no other reference to its
  /// storage, so that the producer's copy is the last.
  func giveBack(_ batch: Batch) {
    condition.lock()
    defer { condition.unlock() }
    returned.append(batch)
  }

  /// The batches handed back since the last call (the producer drops them, freeing them).
  func takeBack() -> [Batch] {
    condition.lock()
    defer { condition.unlock() }
    defer { returned.removeAll(keepingCapacity: true) }
    return returned
  }

  /// Ends the exchange: the producer stops (``put(_:)`` returns `false`), a consumer waiting in
  /// ``take()`` gets `nil`, and batches still queued are dropped.
  func cancel() {
    condition.lock()
    defer { condition.unlock() }
    cancelled = true
    condition.broadcast()
  }
}

/// Runs `body` on a new thread and lets the caller wait for it to end.
final class Worker: Sendable {
  private let done = Gate()

  init(name: String, _ body: @escaping @Sendable () -> Void) {
    let held = HeldBody(body)
    let done = done
    let thread = Thread {
      held.run()
      done.open()
    }
    thread.name = name
    thread.start()
  }

  /// Waits until the thread's body has returned and released what it captured (a log, say), so
  /// that nothing the body held outlives the wait on the thread.
  func join() {
    done.wait()
  }
}

/// A worker's body, which lets go of it (and of what it captured) as soon as it has run.
private final class HeldBody: @unchecked Sendable {
  // @unchecked Sendable: `body` is set before the thread starts, then used only by the thread.
  private var body: (@Sendable () -> Void)?

  init(_ body: @escaping @Sendable () -> Void) {
    self.body = body
  }

  /// Runs the body once and releases it before returning.
  @inline(never)
  func run() {
    guard let body else { return }
    self.body = nil
    body()
  }
}
