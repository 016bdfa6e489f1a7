import EventLog
import Logging
import PartnerSyncDomain

/// A subscription to what the log gains: the events appended after a position, or one partner's
/// notifications after an outbox cursor, as an `AsyncSequence` that throws ``PartnerSyncError``.
///
/// It is pulled, never pushed: the iterator reads the next page (at most `readAhead` elements)
/// only once the consumer has taken the one before, so however far behind the consumer is, the
/// subscription holds one page at most. Reads run on the log's own thread (as the log's
/// asynchronous methods do), never on a thread of Swift concurrency's pool. When it has caught
/// up, it looks again every `interval` for what any process appended meanwhile. It ends (its
/// iterator returns `nil`) when the consuming task is cancelled, and throws when the log cannot
/// be read; a new subscription after the last element's ``LogSubscription/Iterator/cursor``
/// takes up where one that ended left off.
///
/// Made by ``PartnerSyncLog/events(after:ticket:as:interval:readAhead:)`` and
/// ``PartnerSyncLog/outboxNotifications(after:as:interval:readAhead:)``.
public struct LogSubscription<Element: Sendable, Cursor: Sendable>: AsyncSequence, Sendable {
  /// The failure of a subscription: the log could not be read.
  public typealias Failure = PartnerSyncError

  /// Reads the page after a cursor (at most a number of elements), and the cursor after it.
  typealias Read = @Sendable (Cursor, Int) throws(PartnerSyncError) -> (page: [Element], cursor: Cursor)

  let log: PartnerSyncLog
  let start: Cursor
  let interval: Duration
  let readAhead: Int
  let read: Read

  /// A new iterator, which starts after the subscription's cursor.
  public func makeAsyncIterator() -> Iterator {
    Iterator(self)
  }

  /// Takes the elements one at a time, reading a page whenever the one it holds is used up.
  public struct Iterator: AsyncIteratorProtocol {
    let subscription: LogSubscription
    /// Where the next page starts: after the last element read (or skipped, for a filtered
    /// subscription). Keep it to resume in a later subscription.
    public private(set) var cursor: Cursor
    /// The page read and not yet handed out; never more than `readAhead` elements.
    private(set) var buffer: [Element] = []
    private var next = 0

    init(_ subscription: LogSubscription) {
      self.subscription = subscription
      cursor = subscription.start
    }

    /// The elements read ahead and not yet handed out.
    var buffered: Int { buffer.count - next }

    /// The next element, waiting for one when the log has none yet; `nil` once the task is
    /// cancelled.
    /// - Throws: ``PartnerSyncError`` when the log cannot be read.
    public mutating func next(
      isolation actor: isolated (any Actor)? = #isolation
    ) async throws(PartnerSyncError) -> Element? {
      // Also with elements read ahead: once cancelled, the consumer receives nothing more.
      if Task.isCancelled { return nil }
      while next == buffer.count {
        buffer = []
        next = 0
        let (read, cursor, limit) = (subscription.read, self.cursor, Swift.max(1, subscription.readAhead))
        let (page, after) = try await subscription.log.queue.run { () throws(PartnerSyncError) in
          try read(cursor, limit)
        }
        buffer = page
        self.cursor = after
        if page.isEmpty {
          do {
            try await Task.sleep(for: subscription.interval)
          } catch {
            return nil
          }
        }
      }
      defer { next += 1 }
      return buffer[next]
    }

    /// See ``next(isolation:)``.
    public mutating func next() async throws(PartnerSyncError) -> Element? {
      try await next(isolation: nil)
    }
  }
}

/// A subscription to new events (``PartnerSyncLog/events(after:ticket:as:interval:readAhead:)``).
public typealias EventSubscription = LogSubscription<RecordedEvent, Int64>

/// A subscription to the stored outbox
/// (``PartnerSyncLog/outboxNotifications(after:as:interval:readAhead:)``).
public typealias OutboxSubscription = LogSubscription<OutboxNotification, OutboxCursor>

extension PartnerSyncLog {
  /// New events as they are appended, after `position`, as an asynchronous sequence
  /// (``LogSubscription``): the events already in the log, then those any process appends, until
  /// the consuming task is cancelled. It reads at most `readAhead` events ahead of the consumer.
  ///
  /// ```swift
  /// do throws(PartnerSyncError) {
  ///   for try await event in log.events(after: checkpoint) {
  ///     print(event.position, event.event.type.rawValue)
  ///   }
  /// } catch {
  ///   print(error.message)
  /// }
  /// ```
  ///
  /// - Parameters:
  ///   - position: The position after which to start (`0`: from the first event).
  ///   - ticket: Only this ticket's events, or every ticket's.
  ///   - partner: Scoped to a partner (`nil`: unscoped, for the log's owner), only the events that
  ///     partner recorded itself, as a scoped ``export(ticket:as:_:)`` writes them
  ///     (``TicketEvent/isVisible(to:)``).
  ///   - interval: How long to wait before looking again once caught up.
  ///   - readAhead: The most events read and held before the consumer takes them.
  public func events(
    after position: Int64 = 0, ticket: String? = nil, as partner: String? = nil,
    interval: Duration = .milliseconds(100), readAhead: Int = 256
  ) -> EventSubscription {
    EventSubscription(log: self, start: position, interval: interval, readAhead: readAhead) {
      (after, limit) throws(PartnerSyncError) in
      var page: [RecordedEvent] = []
      var cursor = after
      try PartnerSyncError.wrap {
        try self.store.forEachEvent(from: after + 1, through: nil) { stored in
          if ticket == nil || stored.stream == ticket, partner == nil || stored.actor == partner {
            page.append(try self.decode(stored))
          }
          cursor = stored.position
          return page.count < limit
        }
      }
      return (page, cursor)
    }
  }

  /// The stored outbox's notifications after `cursor`, every partner's or only `partner`'s (as it
  /// may read them), as an asynchronous sequence (``LogSubscription``): those already stored, then
  /// those that later writes store, until the consuming task is cancelled. It reads at most
  /// `readAhead` notifications ahead of the consumer.
  ///
  /// ```swift
  /// for try await item in log.outboxNotifications(after: checkpoint, as: "bolt") {
  ///   try send(item.notification, id: item.id)
  ///   checkpoint = item.cursor
  /// }
  /// ```
  ///
  /// It throws ``PartnerSyncError`` as ``outbox(after:limit:as:)-7chac`` does: `unusableLog`
  /// for an older log whose outbox is not filled yet.
  public func outboxNotifications(
    after cursor: OutboxCursor = .start, as partner: String? = nil,
    interval: Duration = .milliseconds(100), readAhead: Int = 256
  ) -> OutboxSubscription {
    OutboxSubscription(log: self, start: cursor, interval: interval, readAhead: readAhead) {
      (after, limit) throws(PartnerSyncError) in
      let page = try self.outbox(after: after, limit: limit, as: partner)
      return (page, page.last?.cursor ?? after)
    }
  }

  /// The library's diagnostics (swift-log, label `partnersync`); silent unless the embedding
  /// program bootstraps a logging backend.
  static let logger = Logger(label: "partnersync")
}
