import Foundation

/// A bounded queue that hands values from one producing thread to one consuming thread: the one
/// way the log's and PartnerSync's threads pass work and results to each other.
///
/// The producer blocks while `capacity` values wait; the consumer blocks while none does. Either
/// side can end the exchange: the producer with ``finish(throwing:)`` (after its last value, or
/// with the error that stopped it), the consumer with ``cancel()``, after which ``put(_:)``
/// returns `false` at once. The consumer may hand used values back (``giveBack(_:)``) so that
/// the producer, which allocated their memory, reuses or frees it (``takeBack()``): memory freed
/// on the thread that allocated it costs less, and it takes that work off the consumer.
package final class Handoff<Value: Sendable>: @unchecked Sendable {
  // @unchecked Sendable: every stored property is read and written while holding `condition`.

  private let condition = NSCondition()
  private let capacity: Int
  private var values: [Value] = []
  private var returned: [Value] = []
  private var finished = false
  private var failure: (any Error)?
  private var cancelled = false

  /// An open exchange that holds at most `capacity` values.
  package init(capacity: Int) {
    self.capacity = capacity
  }

  /// Queues `value`, waiting while the queue is full; `false` when the consumer cancelled.
  @discardableResult
  package func put(_ value: Value) -> Bool {
    condition.lock()
    defer { condition.unlock() }
    while values.count >= capacity, !cancelled {
      condition.wait()
    }
    guard !cancelled else { return false }
    values.append(value)
    condition.broadcast()
    return true
  }

  /// Marks the end of the values, or the error that ended them early.
  package func finish(throwing error: (any Error)? = nil) {
    condition.lock()
    defer { condition.unlock() }
    finished = true
    failure = error
    condition.broadcast()
  }

  /// The next value, waiting for one; `nil` after the last one, or once the exchange is cancelled.
  /// Rethrows the producer's error once the values queued before it are taken.
  package func take() throws -> Value? {
    condition.lock()
    defer { condition.unlock() }
    while values.isEmpty, !finished, !cancelled {
      condition.wait()
    }
    guard !cancelled else { return nil }
    guard !values.isEmpty else {
      if let failure { throw failure }
      return nil
    }
    // The queue is short: removing from the front is cheap.
    let value = values.removeFirst()
    condition.broadcast()
    return value
  }

  /// Hands a used value back to the producer. The caller should hold no other reference to its
  /// storage, so that the producer's copy is the last.
  package func giveBack(_ value: Value) {
    condition.lock()
    defer { condition.unlock() }
    returned.append(value)
  }

  /// The values handed back since the last call.
  package func takeBack() -> [Value] {
    condition.lock()
    defer { condition.unlock() }
    defer { returned.removeAll(keepingCapacity: true) }
    return returned
  }

  /// Ends the exchange: the producer stops (``put(_:)`` returns `false`), a consumer waiting in
  /// ``take()`` gets `nil`, and values still queued are dropped.
  package func cancel() {
    condition.lock()
    defer { condition.unlock() }
    cancelled = true
    values.removeAll()
    condition.broadcast()
  }
}

/// Runs `body` on a new thread; ``join()`` waits for it to end and returns what it returned
/// (handed over through a ``Handoff``).
package final class Worker<Result: Sendable>: Sendable {
  private let result = Handoff<Result>(capacity: 1)

  /// Starts `body` on a thread named `name`.
  package init(name: String, _ body: @escaping @Sendable () -> Result) {
    let held = HeldBody(body)
    let result = result
    let thread = Thread {
      result.put(held.run())
      result.finish()
    }
    thread.name = name
    thread.start()
  }

  /// Waits until the body has returned and released what it captured (a log, say), so that
  /// nothing the body held outlives the wait; returns what the body returned.
  @discardableResult
  package func join() -> Result {
    // The body always puts its result before finishing: a take only ends without one when
    // `join()` is called twice.
    guard let value = try? result.take() else { preconditionFailure("a worker was joined twice") }
    return value
  }
}

/// A worker's body, which lets go of it (and of what it captured) as soon as it has run.
private final class HeldBody<Result>: @unchecked Sendable {
  // @unchecked Sendable: `body` is set before the thread starts, then used only by the thread.
  private var body: (@Sendable () -> Result)?

  init(_ body: @escaping @Sendable () -> Result) {
    self.body = body
  }

  /// Runs the body once and releases it before returning.
  @inline(never)
  func run() -> Result {
    let body = self.body!
    self.body = nil
    return body()
  }
}
