import Dispatch
import PartnerSyncDomain

extension DispatchQueue {
  /// Runs `body` on this queue, suspending the calling task (not blocking its thread) until it has
  /// finished.
  ///
  /// A log's asynchronous calls run on a serial queue of the log's own, outside Swift
  /// concurrency's cooperative pool: a call that waits for another writer's lock (up to the log's
  /// `wait`) or for the disk blocks that queue's thread only, never one of the few threads that run
  /// every task of the process. The calls of one log run in the order they were made.
  func run<T: Sendable>(
    _ body: @escaping @Sendable () throws(PartnerSyncError) -> T
  ) async throws(PartnerSyncError) -> T {
    // Resumed exactly once, by the block: the checked continuation's bookkeeping costs every
    // asynchronous call (a server's view) a microsecond for nothing.
    let result: Result<T, PartnerSyncError> = await withUnsafeContinuation { continuation in
      self.async { continuation.resume(returning: Result { () throws(PartnerSyncError) -> T in try body() }) }
    }
    return try result.get()
  }
}

// MARK: - The asynchronous API

// Each method has the name and the parameters of its synchronous twin: in asynchronous code,
// `try await log.record(…)` calls the one here, and synchronous code (the command line, say)
// keeps calling the other.
//
// Cancellation: a call does not stop when its task is cancelled. Once made, it runs to its end
// on the log's thread and returns its result or its error: a write is appended whole or not at
// all (one transaction), so cancelling never leaves half of a batch in the log. To give up
// waiting for a busy log sooner, open it with a shorter `wait`.

extension PartnerSyncLog {
  /// Opens (or, with `create`, creates) the SQLite log at `path`, without blocking a thread of
  /// Swift concurrency: the asynchronous twin of ``open(path:create:readOnly:rules:wait:)-99n9u``.
  ///
  /// Opening reads the file and, for a new or older log, writes its schema, waiting for another
  /// writer meanwhile; that happens on a thread of its own. The log's asynchronous methods then
  /// run on a thread of the log's.
  ///
  /// ```swift
  /// let log = try await PartnerSyncLog.open(path: "team.sqlite", create: true)
  /// ```
  /// - Throws: ``PartnerSyncError`` as ``open(path:create:readOnly:rules:wait:)-99n9u`` does.
  public static func open(
    path: String, create: Bool = false, readOnly: Bool = false, rules: RuleSet = .standard,
    wait: Duration = .seconds(5)
  ) async throws(PartnerSyncError) -> PartnerSyncLog {
    try await DispatchQueue(label: "partnersync.open").run { () throws(PartnerSyncError) in
      try open(path: path, create: create, readOnly: readOnly, rules: rules, wait: wait)
    }
  }

  /// Opens (or, with `create`, creates) the log that `url` names, a PostgreSQL URL or a SQLite
  /// path, without blocking a thread of Swift concurrency: the asynchronous twin of
  /// ``open(url:create:readOnly:rules:wait:)-7wz0j``, whose connecting and reading happen on a thread
  /// of their own.
  ///
  /// - Throws: ``PartnerSyncError`` as ``open(url:create:readOnly:rules:wait:)-7wz0j`` does.
  public static func open(
    url: String, create: Bool = false, readOnly: Bool = false, rules: RuleSet = .standard,
    wait: Duration = .seconds(5)
  ) async throws(PartnerSyncError) -> PartnerSyncLog {
    try await DispatchQueue(label: "partnersync.open").run { () throws(PartnerSyncError) in
      try open(url: url, create: create, readOnly: readOnly, rules: rules, wait: wait)
    }
  }

  /// Validates `events` against the rules and appends them all in one transaction, or nothing,
  /// without blocking a thread of Swift concurrency: the asynchronous twin of
  /// ``record(_:now:)-4uq0x``.
  ///
  /// Waiting for another writer (up to the log's `wait`) and writing happen on the log's own
  /// thread; the calling task is suspended meanwhile. A cancelled task's call still finishes:
  /// its batch is appended whole, or it fails and nothing is.
  ///
  /// - Parameters:
  ///   - events: The events, in order.
  ///   - now: The time of the events without one; by default the clock's time of the call.
  /// - Throws: ``PartnerSyncError`` as the synchronous twin does (`invalidEvent`, `busy`, …).
  @discardableResult
  public func record(
    _ events: [TicketEvent], now: Timestamp = .now()
  ) async throws(PartnerSyncError) -> RecordResult {
    try await queue.run { () throws(PartnerSyncError) in try self.record(events, now: now) }
  }

  /// Runs `body`, synchronous calls on this log that have no asynchronous twin (or that belong
  /// together, such as a check and the write it guards), on the log's own thread, in turn with
  /// the log's other asynchronous calls; the calling task is suspended meanwhile.
  /// - Throws: What `body` throws.
  public func perform<T: Sendable>(
    _ body: @escaping @Sendable () throws(PartnerSyncError) -> T
  ) async throws(PartnerSyncError) -> T {
    try await queue.run(body)
  }

  /// The ticket as `partner` sees it at `point`, read on the log's own thread: the asynchronous
  /// twin of ``view(ticket:as:at:engagement:)``.
  /// - Throws: ``PartnerSyncError`` as the synchronous twin does.
  public func view(
    ticket: String, as partner: String, at point: Point = .latest, engagement: Int? = nil
  ) async throws(PartnerSyncError) -> TicketView {
    try await queue.run { () throws(PartnerSyncError) in
      try self.view(ticket: ticket, as: partner, at: point, engagement: engagement)
    }
  }

  /// Every sync decision of `ticket` (or of one entry) in order, as of `point`, all or only
  /// those `partner` may know, read on the log's own thread: the asynchronous twin of
  /// ``audit(ticket:entry:at:as:)-a2yx``.
  /// - Throws: ``PartnerSyncError`` as the synchronous twin does.
  public func audit(
    ticket: String, entry: String? = nil, at point: Point = .latest, as partner: String? = nil
  ) async throws(PartnerSyncError) -> [SyncDecision] {
    try await queue.run { () throws(PartnerSyncError) in
      try self.audit(ticket: ticket, entry: entry, at: point, as: partner)
    }
  }

  /// The notification outbox (of one ticket, or of the whole log) after position `after`, all
  /// or only `partner`'s, read on the log's own thread: the asynchronous twin of
  /// ``notifications(ticket:after:as:)-42ii4``.
  /// - Throws: ``PartnerSyncError`` as the synchronous twin does.
  public func notifications(
    ticket: String? = nil, after: Int64 = 0, as partner: String? = nil
  ) async throws(PartnerSyncError) -> [PartnerNotification] {
    try await queue.run { () throws(PartnerSyncError) in
      try self.notifications(ticket: ticket, after: after, as: partner)
    }
  }

  /// A page of the stored outbox after `cursor`, read on the log's own thread: the asynchronous
  /// twin of ``outbox(after:limit:as:)-7chac``.
  /// - Throws: ``PartnerSyncError`` as the synchronous twin does.
  public func outbox(
    after cursor: OutboxCursor = .start, limit: Int = 100, as partner: String? = nil
  ) async throws(PartnerSyncError) -> [OutboxNotification] {
    try await queue.run { () throws(PartnerSyncError) in
      try self.outbox(after: cursor, limit: limit, as: partner)
    }
  }
}
