import Foundation
import PostgresEventLog

extension PartnerSyncLog {
  /// Waits until the log holds `position`, for read-your-writes on a streaming replica: a writer
  /// appends on the primary, then reads on the replica once it has replayed that append.
  ///
  /// ```swift
  /// let written = try primary.record(events)
  /// try replica.waitUntil(position: written.lastPosition, timeout: .seconds(5))
  /// let view = try replica.view(ticket: "T-1001", as: "bolt")
  /// ```
  ///
  /// It reads the log's last position every 20 ms; it returns at once when the log holds
  /// `position` already. On a log opened on a standby server, a read that names a position
  /// (``view(ticket:as:at:engagement:)-67fjw`` and ``audit(ticket:entry:at:as:)-a2yx`` at
  /// ``Point/position(_:)``, ``notifications(ticket:after:as:)-42ii4`` after a position) waits so by
  /// itself, up to the `wait` it was opened with.
  /// - Throws: ``PartnerSyncError`` with code `positionNotReached` when the log does not hold
  ///   `position` after `timeout`.
  public func waitUntil(position: Int64, timeout: Duration) throws(PartnerSyncError) {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    var last = try lastPosition()
    while last < position {
      let left = deadline - clock.now
      guard left > .zero else { throw Self.notReached(position, last: last, timeout: timeout) }
      Thread.sleep(forTimeInterval: min(0.02, left.inSeconds))
      last = try lastPosition()
    }
  }

  /// Waits until the log holds `position`, holding no thread meanwhile: the asynchronous twin of
  /// ``waitUntil(position:timeout:)-1t0sw``. It reads the log's last position on the log's
  /// own thread every 20 ms and sleeps in between; a cancelled task stops waiting.
  /// - Throws: ``PartnerSyncError`` with code `positionNotReached` when the log does not hold
  ///   `position` after `timeout`, or when the task is cancelled before it does.
  public func waitUntil(position: Int64, timeout: Duration) async throws(PartnerSyncError) {
    let clock = ContinuousClock()
    let start = clock.now
    let deadline = start + timeout
    var last = try await queue.run { () throws(PartnerSyncError) in try self.lastPosition() }
    while last < position {
      let left = deadline - clock.now
      guard left > .zero else { throw Self.notReached(position, last: last, timeout: timeout) }
      guard (try? await Task.sleep(for: min(.milliseconds(20), left))) != nil else {
        throw Self.notReached(position, last: last, timeout: clock.now - start, cancelled: true)
      }
      last = try await queue.run { () throws(PartnerSyncError) in try self.lastPosition() }
    }
  }

  /// The error of a wait for `position` that ended with the log at `last`, after `waited` (the
  /// timeout, or less when the task was `cancelled`).
  private static func notReached(
    _ position: Int64, last: Int64, timeout waited: Duration, cancelled: Bool = false
  ) -> PartnerSyncError {
    let seconds = String(format: "%g", (waited.inSeconds * 1000).rounded() / 1000)
    return PartnerSyncError(
      .positionNotReached,
      "the log holds positions up to \(last), not yet position \(position), "
        + (cancelled ? "when the wait was cancelled after \(seconds) s; " : "after waiting \(seconds) s; ")
        + "a replica may not have replayed it yet: retry, or read from the primary")
  }

  /// On a log opened on a standby server, waits until it holds `position` (see
  /// ``waitUntil(position:timeout:)-1t0sw``), up to the wait the log was opened with, and returns true;
  /// elsewhere it returns false at once.
  func awaitReplay(of position: Int64) throws(PartnerSyncError) -> Bool {
    guard let log = store as? PostgresEventLog, log.isStandby else { return false }
    try waitUntil(position: position, timeout: .milliseconds(Int64(log.options.lockTimeoutMilliseconds)))
    return true
  }
}

extension Duration {
  /// The duration in seconds.
  var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
