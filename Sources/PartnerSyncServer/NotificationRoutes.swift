import AsyncAlgorithms
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import PartnerSync
import PartnerSyncDomain
import ServiceLifecycle

/// The partner's notifications: a page of the stored outbox, or a live stream of Server-Sent
/// Events.
struct NotificationRoutes: Sendable {
  let log: PartnerSyncLog
  let limits: ServerLimits
  /// How often a caught-up stream looks for new notifications.
  let interval: Duration
  /// The keys: a stream ends once its key is no longer valid.
  let keys: KeyCache
  /// The notification streams open (`partnersync_notification_streams` at `/metrics`).
  let streamsOpen = Meter(label: "partnersync.notification_streams")

  func add(to group: RouterGroup<PartnerContext>) {
    group.get("notifications") { request, context in try await page(request, context) }
    group.get("notifications/stream") { request, context in try await stream(request, context) }
  }

  /// `GET /notifications?after=CURSOR&limit=N`: the partner's notifications after the cursor.
  func page(_ request: Request, _ context: PartnerContext) async throws -> Response {
    let partner = try context.requirePartner()
    let after = try Self.cursor(request.uri.queryParameters["after"].map(String.init), name: "after")
    let limit = try request.uri.queryParameters["limit"].map { text in
      guard let number = Int(text), (1...limits.maximumPage).contains(number) else {
        throw Problem(.badRequest, "limit takes a whole number from 1 to \(limits.maximumPage), not \(text)")
      }
      return number
    }
    let page = try await log.outbox(after: after, limit: limit ?? 100, as: partner)
    let next = page.last?.cursor ?? after
    return TicketRoutes.json(
      .object([("notifications", .array(page.map(\.json))), ("next", .string(next.description))]))
  }

  /// `GET /notifications/stream`: the partner's notifications as Server-Sent Events, from the
  /// `Last-Event-ID` header (or the `after` query), then live, until the client goes away or the
  /// server shuts down, or its key is revoked (before anything more is sent). Each event's `id:`
  /// is the notification's id, its cursor. A log that cannot be read when the stream is asked for
  /// is a problem answer (`503` while its database is down), as for a page; one that fails while
  /// the stream is open ends it, after a comment that says so: the client reconnects with
  /// `Last-Event-ID`.
  func stream(_ request: Request, _ context: PartnerContext) async throws -> Response {
    let partner = try context.requirePartner()
    let (key, keys) = (context.key ?? "", keys)
    // Both are checked; the header, which a reconnecting EventSource sends, wins.
    let query = try Self.cursor(request.uri.queryParameters["after"].map(String.init), name: "after")
    let header = try request.headers[.lastEventID].map { try Self.cursor($0, name: "Last-Event-ID") }
    let after = header ?? query
    // The log read once before the answer's head is sent: its failure is then a problem answer.
    _ = try await log.outbox(after: after, limit: 1, as: partner)
    // The notifications, and a comment at each heartbeat: only a write finds a client gone.
    let items = merge(
      log.outboxNotifications(after: after, as: partner, interval: interval).map { Optional($0) },
      AsyncTimerSequence(interval: limits.streamHeartbeat, clock: .continuous).map { _ in OutboxNotification?.none })
    let (streamsOpen, logger) = (streamsOpen, context.logger)
    return Response(
      status: .ok,
      headers: [.contentType: "text/event-stream", .cacheControl: "no-store"],
      body: ResponseBody { writer in
        streamsOpen.increment()
        defer { streamsOpen.decrement() }
        // A comment first: the client learns at once that the stream is open.
        try await writer.write(ByteBuffer(string: ": partnersync notifications of \(partner)\n\n"))
        let lent = LentWriter(writer)
        do {
          try await cancelWhenGracefulShutdown {
            for try await item in items {
              // The key file is read again when it changes: a revoked key ends the stream here.
              guard (try? keys.partner(of: key)) == partner else { break }
              try await lent.writer.write(ByteBuffer(string: item.map(Self.event) ?? ":\n\n"))
            }
          }
        } catch is CancellationError {
          // The server shuts down: the stream ends cleanly, and the client resumes elsewhere.
        } catch let error as PartnerSyncError {
          // The log failed (its database went down): the stream ends cleanly, saying so.
          logger.warning(
            "a notification stream ended: the log failed",
            metadata: ["code": "\(error.code.rawValue)", "error": "\(error.description)"])
          try await lent.writer.write(
            ByteBuffer(string: ": the log cannot be read now; reconnect with Last-Event-ID\n\n"))
        }
        writer = lent.writer
        try await writer.finish(nil)
      })
  }

  /// One notification as a Server-Sent Event.
  static func event(_ item: OutboxNotification) -> String {
    "id: \(item.id)\nevent: notification\ndata: \(item.deliveryLine)\n\n"
  }

  /// Reads a cursor (`12-0`, or a bare position `12`: after all of its notifications); none is
  /// the outbox's start, an empty one is malformed.
  static func cursor(_ text: String?, name: String) throws -> OutboxCursor {
    guard let text else { return .start }
    // A bare position: after every notification of the event at that position.
    if !text.isEmpty, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let position = Int64(text) {
      return OutboxCursor(position: position, index: Int.max)
    }
    guard let cursor = OutboxCursor(text) else {
      throw Problem(
        .badRequest, "\(name) takes a notification id such as 12-0 (position-index), not '\(text)'")
    }
    return cursor
  }
}

/// The response's writer, lent to the operation that `cancelWhenGracefulShutdown` runs in a task
/// of its own (which it waits for): only that task uses it meanwhile, and only this one after.
private final class LentWriter: @unchecked Sendable {
  var writer: any ResponseBodyWriter
  init(_ writer: any ResponseBodyWriter) { self.writer = writer }
}

extension HTTPField.Name {
  /// `Last-Event-ID`, which an EventSource sends when it reconnects.
  static var lastEventID: Self { Self("Last-Event-ID")! }
}
