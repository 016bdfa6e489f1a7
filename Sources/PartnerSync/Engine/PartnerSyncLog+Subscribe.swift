import EventLog
import Logging
import PartnerSyncDomain

extension PartnerSyncLog {
  /// New events as they are appended, from `position` on (exclusive), as an asynchronous sequence.
  ///
  /// It yields the events already in the log, then polls every `interval` for new ones (written by
  /// any process) until the consuming task is cancelled; it throws ``PartnerSyncError`` if the log
  /// cannot be read.
  ///
  /// ```swift
  /// for try await event in log.events(after: checkpoint) {
  ///   print(event.position, event.event.type.rawValue)
  /// }
  /// ```
  ///
  /// Scoped to `partner` (`nil`: unscoped, for the log's owner), it yields only the events that
  /// partner recorded itself, as a scoped ``export(ticket:as:_:)`` writes them
  /// (``TicketEvent/isVisible(to:)``).
  public func events(
    after position: Int64 = 0, ticket: String? = nil, as partner: String? = nil,
    interval: Duration = .milliseconds(100)
  ) -> AsyncThrowingStream<RecordedEvent, Error> {
    AsyncThrowingStream { continuation in
      let task = Task {
        var cursor = position
        do {
          while !Task.isCancelled {
            var batch: [RecordedEvent] = []
            try PartnerSyncError.wrap {
              try self.store.forEachEvent(from: cursor + 1, through: nil) { stored in
                if ticket == nil || stored.stream == ticket, partner == nil || stored.actor == partner {
                  batch.append(try self.decode(stored))
                }
                cursor = stored.position
                return batch.count < 1024
              }
            }
            for event in batch { continuation.yield(event) }
            if batch.count < 1024 { try await Task.sleep(for: interval) }
          }
          continuation.finish()
        } catch is CancellationError {
          continuation.finish()
        } catch {
          Self.logger.error("event subscription stopped: \(error)")
          continuation.finish(throwing: error)
        }
      }
      continuation.onTermination = { _ in task.cancel() }
    }
  }

  /// The library's diagnostics (swift-log, label `partnersync`); silent unless the embedding
  /// program bootstraps a logging backend.
  static let logger = Logger(label: "partnersync")
}
