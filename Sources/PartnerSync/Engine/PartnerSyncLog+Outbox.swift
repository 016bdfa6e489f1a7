import EventLog
import PartnerSyncDomain

/// A notification read from the stored outbox, with where it stands.
public struct OutboxNotification: Sendable, Hashable {
  /// Where it stands in the outbox: the next page starts after it.
  public var cursor: OutboxCursor
  /// The notification.
  public var notification: PartnerNotification

  /// Its id, stable for ever (`"12-0"`: the position of the event that sent it and its index
  /// among that event's notifications): a receiver drops a notification whose id it has seen.
  public var id: String { cursor.description }

  /// A notification at `cursor`.
  public init(cursor: OutboxCursor, notification: PartnerNotification) {
    self.cursor = cursor
    self.notification = notification
  }
}

extension OutboxFrames {
  /// Adds `notification`, for its partner, as that partner reads it (``PartnerNotification/delivered``),
  /// in its contract JSON (`notifications --format json`).
  mutating func add(_ notification: PartnerNotification) {
    notification.delivered.withJSONBytes { data in
      notification.partner.withUTF8Bytes { recipient in add(recipient: recipient, data: data) }
    }
  }
}

extension PartnerNotification {
  /// The notification's contract JSON (as ``json``), lent as bytes valid only during `body`.
  func withJSONBytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
    try JSONWriter.object(
      { members in
        members.number("position", Double(position))
        members.string("ticket", ticket)
        members.string("rule", rule.rawValue)
        members.string("partner", partner)
        members.string("to", to)
        if let entry { members.string("entry", entry) }
        members.string("text", text)
      }, body)
  }

  /// The notification stored as `data` (its contract JSON), or nil when it is not one.
  init?(outboxData data: String) {
    guard case .object(let members)? = try? JSONParser.parse(data) else { return nil }
    func string(_ key: String) -> String? {
      guard case .string(let value)? = members.first(where: { $0.key == key })?.value else { return nil }
      return value
    }
    guard case .number(let position)? = members.first(where: { $0.key == "position" })?.value,
      let ticket = string("ticket"), let rule = string("rule").flatMap(RuleID.init(rawValue:)),
      let partner = string("partner"), let to = string("to"), let text = string("text")
    else { return nil }
    self.init(
      position: Int64(position), ticket: ticket, rule: rule, partner: partner, to: to, entry: string("entry"),
      text: text)
  }
}

extension PartnerSyncLog {
  /// The stored outbox after `cursor`, at most `limit` notifications, in cursor order: every
  /// partner's, or only `partner`'s, each as its recipient may read it
  /// (``PartnerNotification/delivered``).
  /// A page costs what it holds, however long the log.
  ///
  /// A delivery loop keeps the cursor of the last notification it delivered and asks for the
  /// page after it; see ``deliver(checkpoint:as:pageSize:_:)``.
  ///
  /// - Throws: ``PartnerSyncError`` with code `corruptLog` when a stored notification cannot be
  ///   read, `unusableLog` when the outbox is not filled (an older log opened read-only: open it
  ///   once read-write, or run `partnersync replay --rebuild-outbox`).
  public func outbox(
    after cursor: OutboxCursor = .start, limit: Int = 100, as partner: String? = nil
  ) throws(PartnerSyncError) -> [OutboxNotification] {
    var page: [OutboxNotification] = []
    guard limit > 0 else { return page }
    try requireFilledOutbox()
    try PartnerSyncError.wrap {
      try store.forEachOutboxMessage(after: cursor, recipient: partner) { message in
        guard let notification = PartnerNotification(outboxData: message.data) else {
          throw PartnerSyncError(.corruptLog, "the outbox message \(message.cursor) cannot be read")
        }
        page.append(OutboxNotification(cursor: message.cursor, notification: notification))
        return page.count < limit
      }
    }
    return page
  }

  /// Whether the stored outbox holds what every event left.
  func outboxIsFilled() throws(PartnerSyncError) -> Bool {
    try PartnerSyncError.wrap { try store.outboxIsFilled() }
  }

  /// Throws unless the stored outbox holds what every event left.
  private func requireFilledOutbox() throws(PartnerSyncError) {
    guard try outboxIsFilled() else {
      throw PartnerSyncError(
        .unusableLog,
        "the log's outbox is not filled (a log from an older version, or a rebuild that did not finish); "
          + "run partnersync replay --rebuild-outbox")
    }
  }

  /// Writes the stored outbox again from what the events imply, with this log's rules: after an
  /// upgrade from a version without one, or when ``verify()`` finds it differs.
  public func rebuildOutbox() throws(PartnerSyncError) {
    try PartnerSyncError.wrap {
      try store.rebuildOutbox { through, sink in
        try forEachExpectedMessage(through: through) { try sink.add($0) }
      }
    }
  }

  /// Fills the outbox of a log upgraded from a version without one (or whose rebuild did not
  /// finish); nothing when it is filled or the log is read-only.
  func fillOutboxIfNeeded() throws(PartnerSyncError) {
    guard try !outboxIsFilled() else { return }
    try rebuildOutbox()
  }

  /// Hands over every outbox message the events up to `through` imply, ticket by ticket.
  private func forEachExpectedMessage(
    through: Int64, _ body: (OutboxMessage) throws -> Void
  ) throws {
    try replay(progress: nil) { projection in
      var previous: Int64 = 0
      var index = 0
      for notification in projection.notifications where notification.position <= through {
        index = notification.position == previous ? index + 1 : 0
        previous = notification.position
        let data = notification.delivered.withJSONBytes { String(decoding: $0, as: UTF8.self) }
        try body(
          OutboxMessage(
            cursor: OutboxCursor(position: notification.position, index: index), recipient: notification.partner,
            data: data))
      }
    }
  }

  /// Compares the stored outbox with what the events imply: the first message that is missing,
  /// changed or not implied, or nil when they agree.
  func outboxProblem() throws(PartnerSyncError) -> (position: Int64, problem: String)? {
    guard try outboxIsFilled() else { return nil }
    var expected: [OutboxCursor: (recipient: String, data: String)] = [:]
    let through = try lastPosition()
    try PartnerSyncError.wrap {
      try forEachExpectedMessage(through: through) { expected[$0.cursor] = ($0.recipient, $0.data) }
    }
    var found: (cursor: OutboxCursor, problem: String)?
    try PartnerSyncError.wrap {
      try store.forEachOutboxMessage(after: .start, recipient: nil) { message in
        guard message.cursor.position <= through else { return false }
        guard let implied = expected.removeValue(forKey: message.cursor) else {
          found = (message.cursor, "the outbox holds a message \(message.cursor) that the events do not send")
          return false
        }
        if implied.recipient != message.recipient || implied.data != message.data {
          found = (message.cursor, "the outbox message \(message.cursor) differs from what the events send")
          return false
        }
        return true
      }
    }
    // The first problem in cursor order: a message missing before the one found, or the one found.
    if let missing = expected.keys.min(), found.map({ missing < $0.cursor }) ?? true {
      return (missing.position, "the outbox lacks the message \(missing) that the events send")
    }
    return found.map { ($0.cursor.position, $0.problem) }
  }
}
