import EventLog
import Foundation
import PartnerSyncDomain

/// What a successful write appended, and what it caused.
///
/// The decisions and notifications of a large write are put in log order only when first read,
/// and an import can count them without keeping them (`keepingDecisions: false`).
public struct RecordResult: Sendable, Hashable {
  /// The position of the first event appended.
  public var firstPosition: Int64
  /// The position of the last event appended (`firstPosition - 1` when nothing was appended).
  public var lastPosition: Int64
  private var decisionList: DeferredList<SyncDecision>
  private var notificationList: DeferredList<PartnerNotification>

  init(
    firstPosition: Int64, lastPosition: Int64, decisions: DeferredList<SyncDecision>,
    notifications: DeferredList<PartnerNotification>
  ) {
    self.firstPosition = firstPosition
    self.lastPosition = lastPosition
    decisionList = decisions
    notificationList = notifications
  }

  /// The sync decisions the new events took, in order.
  public var decisions: [SyncDecision] {
    get { decisionList.items }
    set { decisionList = DeferredList(newValue) }
  }
  /// The notifications the new events sent, in order.
  public var notifications: [PartnerNotification] {
    get { notificationList.items }
    set { notificationList = DeferredList(newValue) }
  }

  /// How many events were appended.
  public var count: Int { Int(lastPosition - firstPosition + 1) }

  /// How many sync decisions the new events took (also when the import did not keep them).
  public var decisionCount: Int { decisionList.count }

  /// How many notifications the new events sent (also when the import did not keep them).
  public var notificationCount: Int { notificationList.count }

  /// Two results are equal when their positions, decisions and notifications are.
  public static func == (lhs: RecordResult, rhs: RecordResult) -> Bool {
    lhs.firstPosition == rhs.firstPosition && lhs.lastPosition == rhs.lastPosition
      && lhs.decisions == rhs.decisions && lhs.notifications == rhs.notifications
  }

  /// Hashes the positions, decisions and notifications.
  public func hash(into hasher: inout Hasher) {
    hasher.combine(firstPosition)
    hasher.combine(lastPosition)
    hasher.combine(decisions)
    hasher.combine(notifications)
  }
}

/// A list made when it is first read (then kept), or given as it is.
final class DeferredList<Item: Sendable>: @unchecked Sendable {
  // @unchecked Sendable: `make` and `made` are read and written under `lock` only.
  private let lock = NSLock()
  private var make: (@Sendable () -> [Item])?
  private var made: [Item]
  /// How many items the list has (or will have).
  let count: Int

  convenience init(_ items: [Item]) {
    self.init(count: items.count) { items }
  }

  init(count: Int, _ make: @escaping @Sendable () -> [Item]) {
    self.make = make
    self.count = count
    made = []
  }

  var items: [Item] {
    lock.lock()
    defer { lock.unlock() }
    if let make {
      made = make()
      self.make = nil
    }
    return made
  }
}

extension PartnerSyncLog {
  /// How often a write validated against a ticket that another writer changed meanwhile is
  /// validated again before giving up with ``PartnerSyncError/Code/versionConflict``.
  static let conflictRetries = 8

  /// Validates `events` against the rules and appends them all in one transaction, or nothing;
  /// an event without a time is recorded at `now` (by default the clock's time of the call).
  /// - Throws: ``PartnerSyncError`` with code `invalidEvent` (and `line` = the 1-based index of
  ///   the first bad event) when the rules refuse an event; nothing is appended.
  @discardableResult
  public func record(_ events: [TicketEvent], now: Timestamp = .now()) throws(PartnerSyncError) -> RecordResult {
    for (index, event) in events.enumerated() {
      for (field, id) in [("ticket", event.ticket), ("by", event.by)] {
        if let problem = Identifier.problem(with: id) {
          throw PartnerSyncError(.invalidEvent, "field '\(field)' \(problem)", line: index + 1)
        }
      }
    }
    guard !events.isEmpty else {
      // Nothing to write: the log only tells where the next event would go (also when read-only).
      let appended = try PartnerSyncError.wrap { try store.append([], expectedVersions: [:]) }
      return RecordResult(
        firstPosition: appended.firstPosition, lastPosition: appended.lastPosition, decisions: DeferredList([]),
        notifications: DeferredList([]))
    }
    return try write(DocumentLines(events: events), now: now, progress: nil, keeping: true)
  }
}
