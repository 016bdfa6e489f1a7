import Dispatch
import EventLog
import OrderedCollections
import PartnerSyncDomain

/// A PartnerSync history: an event log of ticket events, with the projections the rules build
/// from it.
///
/// Every write is validated by the same ``TicketProjection`` that later replays it, and appended
/// in one transaction with the version each ticket had when it was validated, so that a
/// concurrent writer can never slip a contradicting event in between.
public final class PartnerSyncLog: @unchecked Sendable {
  // Sendable: the store serialises its own access, and the rules are an immutable value.

  /// The event log underneath.
  public let store: any EventLogWriter
  /// The rules the projections apply.
  public let rules: RuleSet
  /// The latest projections of the tickets written recently (see ``ProjectionCache``).
  let projectionCache = ProjectionCache(capacity: 1024)
  /// The thread of the asynchronous calls (see `DispatchQueue.run`).
  let queue = DispatchQueue(label: "partnersync.log")

  /// Wraps an event log.
  public init(store: any EventLogWriter, rules: RuleSet = .standard) {
    self.store = store
    self.rules = rules
  }

  /// Opens (or, with `create`, creates) the SQLite log at `path`.
  ///
  /// A write waits up to `wait` for another writer (a large import holds the log while it
  /// validates and writes); past it, it fails with ``PartnerSyncError/Code/busy``, appending
  /// nothing.
  /// - Throws: ``PartnerSyncError`` with code `logNotFound` when there is no log at `path` (and
  ///   `create` is off) or no such folder, `unusableLog` when `path` is not a PartnerSync log.
  public static func open(
    path: String, create: Bool = false, readOnly: Bool = false, rules: RuleSet = .standard,
    wait: Duration = .seconds(5)
  ) throws(PartnerSyncError) -> PartnerSyncLog {
    if let problem = problem(withPath: path, create: create && !readOnly) { throw problem }
    let log = try PartnerSyncError.wrap {
      var options = options(wait: wait)
      options.create = create
      options.readOnly = readOnly
      return PartnerSyncLog(store: try SQLiteEventLog(path: path, options: options), rules: rules)
    }
    if !readOnly { try log.fillOutboxIfNeeded() }
    return log
  }

  /// The options of a SQLite log whose writes wait up to `wait` for another writer.
  static func options(wait: Duration) -> SQLiteEventLog.Options {
    let milliseconds = wait.inSeconds * 1000
    return SQLiteEventLog.Options(busyTimeoutMilliseconds: Int32(clamping: Int64(max(0, milliseconds).rounded(.up))))
  }

  /// A log that lives in memory only, for tests and experiments.
  public static func inMemory(rules: RuleSet = .standard) throws(PartnerSyncError) -> PartnerSyncLog {
    try PartnerSyncError.wrap { PartnerSyncLog(store: try SQLiteEventLog.inMemory(), rules: rules) }
  }

  /// The position of the last event, 0 when the log is empty.
  public func lastPosition() throws(PartnerSyncError) -> Int64 {
    try PartnerSyncError.wrap { try store.lastPosition() }
  }

  /// The ticket numbers in the log, sorted.
  public func tickets() throws(PartnerSyncError) -> [String] {
    try PartnerSyncError.wrap { try store.streams() }
  }

  // MARK: Reading events

  /// Decodes a stored event.
  func decode(_ stored: StoredEvent) throws(PartnerSyncError) -> RecordedEvent {
    try PartnerSyncError.wrap { try StoredEventBytes.withBytes(of: stored) { try decode($0) } }
  }

  /// Decodes a stored event lent as bytes.
  func decode(_ stored: StoredEventBytes) throws(PartnerSyncError) -> RecordedEvent {
    RecordedEvent(
      position: stored.position, version: stored.version, at: Timestamp(microseconds: stored.time),
      event: try decodeEvent(stored))
  }

  /// The event of a stored event lent as bytes; `ticket` and `actor`, when known, are not decoded
  /// again.
  func decodeEvent(
    _ stored: StoredEventBytes, ticket: String? = nil, actor: String? = nil
  ) throws(PartnerSyncError) -> TicketEvent {
    guard let type = EventCodec.eventType(stored.type) else {
      throw PartnerSyncError(
        .corruptLog,
        "the event at position \(stored.position) has an unknown type '\(String(decoding: stored.type, as: UTF8.self))'"
      )
    }
    var payload = EventPayload.accepted
    if !EventCodec.decodePayload(type, data: stored.data, into: &payload) {
      // Read again with invalid UTF-8 repaired, which also says why it fails.
      do {
        var data = String(decoding: stored.data, as: UTF8.self)
        payload = try data.withUTF8 { try EventCodec.decodePayload(type, data: $0) }
      } catch {
        let reason = (error as? EventFormatError)?.message ?? (error as? JSONParseError)?.message
        throw PartnerSyncError(
          .corruptLog, "the event at position \(stored.position) cannot be read" + (reason.map { ": " + $0 } ?? ""))
      }
    }
    return TicketEvent(
      ticket: ticket ?? String(decoding: stored.stream, as: UTF8.self),
      by: actor ?? String(decoding: stored.actor, as: UTF8.self), at: Timestamp(microseconds: stored.time),
      payload)
  }

  /// Streams events in position order (one ticket's, or the whole log's), decoded.
  ///
  /// An error that `body` throws ends the walk and reaches the caller as a ``PartnerSyncError``:
  /// as it is when it is one; with code `invalidEvent` when it is a ``RefusedEvent`` (a variant
  /// `RuleSet` refusing an event, its position in the message); an error of the event log
  /// translated as the log's own are; else with code `storage` and the error's description as
  /// the message.
  /// - Throws: ``PartnerSyncError`` with code `unknownTicket` when `ticket` is not in the log.
  public func forEachEvent(
    ticket: String? = nil, _ body: (RecordedEvent) throws -> Void
  ) throws(PartnerSyncError) {
    var found = false
    try PartnerSyncError.wrap {
      let visit: (StoredEventBytes) throws -> Bool = { stored in
        found = true
        do {
          try body(try self.decode(stored))
        } catch let refused as RefusedEvent {
          throw PartnerSyncError(
            .invalidEvent, "the event at position \(stored.position) is refused: \(refused.reason)")
        }
        return true
      }
      if let ticket {
        try store.forEachEventBytes(inStream: ticket, throughPosition: nil, visit)
      } else {
        try store.forEachEventBytes(from: 1, through: nil, visit)
      }
    }
    if let ticket, !found {
      throw .notInLog(ticket)
    }
  }

  /// The export of the log (or of one ticket's history) as JSON Lines, one line per call.
  ///
  /// Scoped to `partner` (`nil`: unscoped, for the log's owner), it holds only the events that
  /// partner recorded itself (``TicketEvent/isVisible(to:)``). An error that `line` throws ends
  /// the export as one of ``forEachEvent(ticket:_:)``'s body does.
  /// - Throws: ``PartnerSyncError`` with code `unknownTicket` when `ticket` is not in the log, or
  ///   (scoped) is one that `partner` may not know (``TicketProjection/isKnown(to:)``): the same
  ///   error as for a ticket that does not exist.
  public func export(
    ticket: String? = nil, as partner: String? = nil, _ line: (String) throws -> Void
  ) throws(PartnerSyncError) {
    guard let partner else { return try forEachEvent(ticket: ticket) { try line(EventCodec.exportLine($0)) } }
    if let ticket { _ = try scopedProjection(ticket: ticket, as: partner) }
    try forEachEvent(ticket: ticket) { event in
      if event.event.isVisible(to: partner) { try line(EventCodec.exportLine(event)) }
    }
  }

  // MARK: Projections

  /// The projection of `ticket` folded through the log up to `position` (the whole history when
  /// `nil`), or `nil` when the ticket has no event up to there.
  ///
  /// The projection of a ticket this log wrote or read recently is taken from memory instead,
  /// once the log is found to hold no later event of the ticket; a ticket's latest projection,
  /// once folded, is kept for the next read or write.
  public func projection(
    ticket: String, through position: Int64? = nil
  ) throws(PartnerSyncError) -> TicketProjection? {
    let latest = try PartnerSyncError.wrap { try store.version(of: ticket) }
    if let cached = projectionCache.peek(ticket), cached.position <= position ?? .max, latest == cached.version {
      return cached
    }
    var projection = TicketProjection(ticket: ticket, rules: rules)
    var found = false
    try PartnerSyncError.wrap {
      try store.forEachEventBytes(inStream: ticket, throughPosition: position) { stored in
        let event = try self.decodeEvent(stored, ticket: ticket)
        do throws(RefusedEvent) {
          try projection.apply(event, position: stored.position)
        } catch {
          throw Self.refusedOnReplay(error, position: stored.position)
        }
        found = true
        return true
      }
    }
    guard found else { return nil }
    if projection.version == latest { projectionCache.store([projection]) }
    return projection
  }

  /// A stored event that the rules refuse when the log is read back: the log is corrupt.
  static func refusedOnReplay(_ error: RefusedEvent, position: Int64) -> PartnerSyncError {
    PartnerSyncError(
      .corruptLog, "the stored event at position \(position) is refused by the rules on replay: \(error.reason)")
  }

  /// Where in the log a view or audit stands.
  public enum Point: Sendable, Hashable {
    /// After the whole log.
    case latest
    /// After the event at this position.
    case position(Int64)
    /// As of this time: after the ticket's events before its first event stamped after it (times
    /// come from clocks that disagree, so they need not grow along a ticket's history).
    case time(Timestamp)
  }

  /// Resolves a point to a position for `ticket`. On a standby server, a position past the log
  /// is waited for (see ``waitUntil(position:timeout:)-1t0sw``).
  public func position(of point: Point, ticket: String) throws(PartnerSyncError) -> Int64 {
    let last = try lastPosition()
    switch point {
    case .latest: return last
    case .position(let p):
      // On a standby, a position past the log may not be replayed yet: it waits for it.
      let held = try p > last ? awaitReplay(of: p) : true
      guard p >= 1, held else {
        throw PartnerSyncError(
          .outOfRange, "position \(p) is outside the log" + (last == 0 ? ", which is empty" : " (1…\(last))"))
      }
      return p
    case .time(let t):
      return try PartnerSyncError.wrap {
        if let earliest = try store.earliestTime(), t.microseconds < earliest {
          throw PartnerSyncError(
            .outOfRange,
            "\(t.rfc3339) is before the log's first event (\(Timestamp(microseconds: earliest).rfc3339))")
        }
        guard let p = try store.lastPosition(inStream: ticket, beforeFirstAfter: t.microseconds) else {
          guard try store.version(of: ticket) > 0 else {
            throw PartnerSyncError.notInLog(ticket)
          }
          throw PartnerSyncError(
            .unknownTicket, "ticket \(ticket) did not exist yet at \(t.rfc3339): its first event is stamped after it")
        }
        return p
      }
    }
  }

  /// The ticket as `partner` sees it at `point`; a service partner's latest engagement unless
  /// `engagement` names another.
  public func view(
    ticket: String, as partner: String, at point: Point = .latest, engagement: Int? = nil
  ) throws(PartnerSyncError) -> TicketView {
    let position = try self.position(of: point, ticket: ticket)
    guard let projection = try projection(ticket: ticket, through: position) else {
      throw PartnerSyncError(
        .unknownTicket,
        point == .latest
          ? "ticket \(ticket) is not in the log"
          : "ticket \(ticket) has no events up to position \(position)")
    }
    do {
      var view = try projection.view(of: partner, engagement: engagement)
      view.position = position
      return view
    } catch {
      let message =
        switch error {
        case .noEngagement:
          "\(partner) has no engagement on ticket \(ticket)\(point == .latest ? "" : " at position \(position)") (its partners: \(projection.partners.joined(separator: ", ")))"
        case .noSuchEngagement(_, _, let n): "ticket \(ticket) has no engagement \(n) with \(partner)"
        }
      throw PartnerSyncError(.unknownPartner, message)
    }
  }

  /// Every sync decision of `ticket` (or of one entry) in order, as of `point`.
  ///
  /// Scoped to `partner` (`nil`: unscoped, for the log's owner), it holds only the decisions that
  /// partner may know of (``SyncDecision/isVisible(to:)``), and `entry` must be one it may know
  /// of (``TicketProjection/knowsEntry(_:partner:)``).
  /// - Throws: ``PartnerSyncError`` with code `unknownTicket` when the ticket is not in the log
  ///   (at that point) or, scoped, is one `partner` may not know (the same message), `unknownEntry`
  ///   when it never had an entry `entry` (up to that point) or, scoped, `partner` may not know of
  ///   it (the same message).
  public func audit(
    ticket: String, entry: String? = nil, at point: Point = .latest, as partner: String? = nil
  ) throws(PartnerSyncError) -> [SyncDecision] {
    let position: Int64
    let found: TicketProjection?
    if let partner {
      position = try scopedPosition(of: point, ticket: ticket, as: partner)
      found = try scopedProjection(ticket: ticket, through: position, as: partner)
    } else {
      position = try self.position(of: point, ticket: ticket)
      found = try projection(ticket: ticket, through: position)
    }
    guard let projection = found else {
      throw .notInLog(ticket)
    }
    let decisions = partner.map { projection.decisions(visibleTo: $0) } ?? projection.decisions
    guard let entry else { return decisions }
    guard projection.hasRecord(of: entry), partner.map({ projection.knowsEntry(entry, partner: $0) }) ?? true else {
      throw PartnerSyncError(
        .unknownEntry,
        "ticket \(ticket) has no entry \(entry)\(point == .latest ? "" : " up to position \(position)")")
    }
    return decisions.filter { $0.entry == entry }
  }

  /// The projection of `ticket` through `position` for a read scoped to `partner`.
  /// - Throws: ``PartnerSyncError`` with code `unknownTicket` and the message of a ticket that is
  ///   not in the log, when it is not, or `partner` may not know it (up to `position`).
  package func scopedProjection(
    ticket: String, through position: Int64? = nil, as partner: String
  ) throws(PartnerSyncError) -> TicketProjection {
    guard let projection = try projection(ticket: ticket, through: position), projection.isKnown(to: partner)
    else { throw .notInLog(ticket) }
    return projection
  }

  /// Resolves `point` for a read of `ticket` scoped to `partner`, telling nothing of what the
  /// partner may not know:
  ///
  /// - a ticket the partner may not know fails as one not in the log before anything is said of
  ///   the log (its first time, its positions);
  /// - as of a time, the read is cut where ``position(of:ticket:)`` cuts it and stands at the
  ///   last event before the cut that the partner may know of
  ///   (`TicketProjection.apply(_:position:isKnownTo:)`): the partner's view and decisions are
  ///   the same there, and the position of an event it may not know of (an internal entry of
  ///   the other partner's, say) never shows. With no such event: `unknownTicket`, whether or
  ///   not the time is before the log's first event, which is not said.
  package func scopedPosition(of point: Point, ticket: String, as partner: String) throws(PartnerSyncError) -> Int64 {
    switch point {
    case .latest:
      return try position(of: point, ticket: ticket)
    case .position:
      _ = try scopedProjection(ticket: ticket, as: partner)
      return try position(of: point, ticket: ticket)
    case .time(let time):
      _ = try scopedProjection(ticket: ticket, as: partner)
      var projection = TicketProjection(ticket: ticket, rules: rules)
      var standing: Int64?
      try PartnerSyncError.wrap {
        guard let cut = try store.lastPosition(inStream: ticket, beforeFirstAfter: time.microseconds) else { return }
        try store.forEachEventBytes(inStream: ticket, throughPosition: cut) { stored in
          let event = try self.decodeEvent(stored, ticket: ticket)
          do throws(RefusedEvent) {
            if try projection.apply(event, position: stored.position, isKnownTo: partner) { standing = stored.position }
          } catch {
            throw Self.refusedOnReplay(error, position: stored.position)
          }
          return true
        }
      }
      guard let standing else {
        throw PartnerSyncError(
          .unknownTicket,
          "ticket \(ticket) had no event \(partner) may know of yet at \(time.rfc3339): the first is stamped after it")
      }
      return standing
    }
  }

  /// The notification outbox (of one ticket, or of the whole log) after position `after`, in
  /// position order: a delivery process keeps the last position it delivered as its checkpoint.
  ///
  /// Scoped to `partner` (`nil`: unscoped, for the log's owner), it holds only the notifications
  /// addressed to that partner, as it may read them (``PartnerNotification/scoped(to:)``).
  ///
  /// One partner's whole-log notifications are read from the stored outbox (see
  /// ``outbox(after:limit:as:)-7chac``, whose cursors also tell apart the notifications of one
  /// position, and which pages in what a page costs).
  ///
  /// On a standby server, it first waits until the log holds `after` (see
  /// ``waitUntil(position:timeout:)-1t0sw``).
  /// - Throws: ``PartnerSyncError`` with code `unknownTicket` when `ticket` is not in the log or,
  ///   scoped, is one `partner` may not know (the same message).
  public func notifications(
    ticket: String? = nil, after: Int64 = 0, as partner: String? = nil
  ) throws(PartnerSyncError) -> [PartnerNotification] {
    func outbox(_ projection: TicketProjection) -> [PartnerNotification] {
      partner.map { projection.notifications(for: $0) } ?? projection.notifications
    }
    if after > 0 { _ = try awaitReplay(of: after) }
    if let ticket {
      if let partner {
        return outbox(try scopedProjection(ticket: ticket, as: partner)).filter { $0.position > after }
      }
      guard let projection = try projection(ticket: ticket) else {
        throw .notInLog(ticket)
      }
      return projection.notifications.filter { $0.position > after }
    }
    // Scoped, the stored outbox holds them as they are (each as its recipient reads it); the log
    // owner's whole list is folded from the history, where the owner may read more.
    if partner != nil, try outboxIsFilled() {
      var all: [PartnerNotification] = []
      var cursor = OutboxCursor(position: after, index: Int.max)
      while true {
        let page = try self.outbox(after: cursor, limit: 4096, as: partner)
        all += page.lazy.map(\.notification)
        guard let last = page.last, page.count == 4096 else { return all }
        cursor = last.cursor
      }
    }
    var all: [PartnerNotification] = []
    try replay(progress: nil) { projection in
      all += outbox(projection).lazy.filter { $0.position > after }
    }
    // Stable: a ticket's notifications at one position keep their order.
    return all.enumerated().sorted {
      ($0.element.position, $0.offset) < ($1.element.position, $1.offset)
    }.map(\.element)
  }

  /// Checks the log's integrity: the hash chain, gap-free positions and versions, then that the
  /// stored outbox holds what the events send (this replays the log). An outbox that differs is
  /// reported with `derivedOnly` set: the events are intact, and
  /// ``rebuildOutbox()`` repairs it.
  public func verify() throws(PartnerSyncError) -> VerifyReport {
    var report = try PartnerSyncError.wrap { try store.verify() }
    if report.isHealthy, let (position, problem) = try outboxProblem() {
      report.firstBadPosition = position
      report.problem = problem
      report.derivedOnly = true
    }
    return report
  }
}
