import Foundation

/// Serialises every call to a log (recursively: the body of a streaming read may call other
/// reading methods), and refuses the calls back into it that it cannot take: an append from
/// inside a read, and any call from inside the producer of a streaming append (the append may be
/// writing on another thread meanwhile).
package final class LogLock: @unchecked Sendable {
  // @unchecked Sendable: `readDepth` and `isProducing` are used only while holding `lock`.
  private let lock = NSRecursiveLock()
  private var readDepth = 0
  private var isProducing = false

  /// A lock for one log.
  package init() {}

  /// Runs `body` while holding the lock.
  package func withLock<Result>(_ body: () throws -> Result) rethrows -> Result {
    try lock.withLock(body)
  }

  /// Runs `body`, a read, while holding the lock; `body` learns whether it is the outermost read
  /// (reads may nest).
  package func read<Result>(_ body: (_ outermost: Bool) throws -> Result) throws -> Result {
    try withLock {
      try refuseWhileProducing()
      readDepth += 1
      defer { readDepth -= 1 }
      return try body(readDepth == 1)
    }
  }

  /// Runs `body`, an append, while holding the lock; refused from inside a read.
  package func append<Result>(_ body: () throws -> Result) throws -> Result {
    try withLock {
      try refuseWhileProducing()
      guard readDepth == 0 else {
        throw EventLogError.misuse(
          "append was called from inside a read of the same log; append after the read has returned")
      }
      return try body()
    }
  }

  /// Runs `body`, the producer of a streaming append, refusing calls back into the log
  /// meanwhile. Call from the body of ``append(_:)``.
  package func producing<Result>(_ body: () throws -> Result) rethrows -> Result {
    isProducing = true
    defer { isProducing = false }
    return try body()
  }

  private func refuseWhileProducing() throws {
    guard !isProducing else {
      throw EventLogError.misuse(
        "the log was called from inside the producer of a streaming append; "
          + "read what the producer needs before the append")
    }
  }
}
