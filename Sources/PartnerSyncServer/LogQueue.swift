import Dispatch
import PartnerSync

/// Runs the log's synchronous calls that have no asynchronous twin on a thread of their own,
/// outside Swift concurrency's cooperative pool (a write may wait for another writer's lock).
struct LogQueue: Sendable {
  private let queue = DispatchQueue(label: "partnersync.server.log")

  /// Runs `body` on the queue, suspending the calling task until it has finished.
  func run<T: Sendable>(
    _ body: @escaping @Sendable () throws(PartnerSyncError) -> T
  ) async throws(PartnerSyncError) -> T {
    let result: Result<T, PartnerSyncError> = await withCheckedContinuation { continuation in
      queue.async {
        continuation.resume(returning: Result { () throws(PartnerSyncError) -> T in try body() })
      }
    }
    return try result.get()
  }
}
