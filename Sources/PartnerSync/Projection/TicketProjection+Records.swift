// How a projection keeps its decisions and notifications: as records of plain values, the
// partners and entries they name by number, made into `SyncDecision` and `PartnerNotification`
// values only when read. A replay takes and frees tens of millions of them and reads few: kept
// so, taking one retains no string and freeing a projection's list is one free.

/// A sync decision as a projection keeps it (see ``SyncDecision``).
struct DecisionRecord: Sendable {
  var position: Int64
  /// ``SyncDecision/heldAt``, or `Int64.min` for none.
  var heldAt: Int64
  var engagement: Int32
  /// The entry's slot in the projection's records.
  var entry: Int32
  /// The numbers of ``SyncDecision/by`` and ``SyncDecision/to`` among the projection's partners.
  var by: Int32
  var to: Int32
  var event: EventType
  var kind: EntryKind
  var outcome: SyncOutcome
  var rule: RuleID
  /// ``SyncDecision/transforms`` as bits (see `DecisionRecord.transformBits`).
  var transforms: UInt8
  /// The number of ``SyncDecision/owner``.
  var owner: Int32
  /// ``SyncDecision/copyBefore``, ``SyncDecision/copyAfter``, ``SyncDecision/severedEarlier``
  /// and ``SyncDecision/entryExists``; `copyAfter` and `entryExists` are set when the decision
  /// is noted.
  var copyBefore: Bool
  var copyAfter = false
  var severedEarlier = false
  var entryExists = true

  /// The transforms a copy can be shaped by, in the order a decision lists them.
  static let transformOrder: [RuleID] = [.leadTimeAsNote, .partnerItemsInternalUsersOnly]

  /// `transforms` as bits of `transformOrder`.
  static func transformBits(_ transforms: [RuleID]) -> UInt8 {
    var bits: UInt8 = 0
    for transform in transforms {
      guard let index = transformOrder.firstIndex(of: transform) else {
        preconditionFailure("\(transform.rawValue) is not a transform")
      }
      bits |= 1 << UInt8(index)
    }
    return bits
  }
}

/// A notification as a projection keeps it (see ``PartnerNotification``).
struct NotificationRecord: Sendable {
  /// What the message says, its names by number (see ``NotificationMessage``).
  enum Message: Sendable {
    case syncedChange(by: Int32, kind: EntryKind, event: EventType, released: Bool, copy: CopyChange)
    case timeLogged(by: Int32)
    case status(EventType, lead: Int32, partner: Int32, engagement: Int32)
  }

  /// Who in the partner is notified.
  enum Recipient: Sendable {
    /// `ticket`.
    case ticket
    /// `primary-contact`.
    case primaryContact
    /// The resource of the lead assigned to an engagement (`assigned-resource` when it names
    /// none).
    case resource(engagement: Int32)
  }

  var position: Int64
  var rule: RuleID
  /// The number of the partner notified among the projection's partners.
  var partner: Int32
  var recipient: Recipient
  /// The entry's slot in the projection's records, or -1 for none.
  var entry: Int32
  var message: Message
}

extension TicketProjection {
  /// Every decision so far, in order.
  public var decisions: [SyncDecision] { decisionRecords.map(decision(from:)) }

  /// Every notification so far, in order.
  public var notifications: [PartnerNotification] { notificationRecords.map(notification(from:)) }

  /// The decisions from position `first` on (those at the end of ``decisions``).
  func decisions(from first: Int64) -> ArraySlice<SyncDecision> {
    let start = startOfSuffix(decisionRecords, from: first) { $0.position }
    return ArraySlice(decisionRecords[start...].map(decision(from:)))
  }

  /// The notifications from position `first` on (those at the end of ``notifications``).
  func notifications(from first: Int64) -> ArraySlice<PartnerNotification> {
    let start = startOfSuffix(notificationRecords, from: first) { $0.position }
    return ArraySlice(notificationRecords[start...].map(notification(from:)))
  }

  /// How many decisions and notifications there are from position `first` on, without making
  /// them.
  func counts(from first: Int64) -> (decisions: Int, notifications: Int) {
    (
      decisionRecords.count - startOfSuffix(decisionRecords, from: first) { $0.position },
      notificationRecords.count - startOfSuffix(notificationRecords, from: first) { $0.position }
    )
  }

  /// The number of `name` among the partners that decisions and notifications name, numbered
  /// as they first appear (a ticket has few). Names are told apart by their bytes, so that each
  /// decision gives back exactly the name it was given.
  mutating func partnerNumber(_ name: String) -> Int32 {
    for index in partnerNames.indices where JSONValue.utf8Equal(partnerNames[index], name) {
      return Int32(index)
    }
    partnerNames.append(name)
    return Int32(partnerNames.count - 1)
  }

  /// The number of the partner whose version `side` is.
  func partnerNumber(of side: Side) -> Int32 {
    switch side {
    case .lead: leadNumber
    case .engagement(let number): engagements[number - 1].partnerNumber
    }
  }

  private func decision(from record: DecisionRecord) -> SyncDecision {
    var transforms: [RuleID] = []
    for (index, transform) in DecisionRecord.transformOrder.enumerated() where record.transforms & (1 << index) != 0 {
      transforms.append(transform)
    }
    var decision = SyncDecision(
      position: record.position, event: record.event, entry: records[slot: Int(record.entry)].id,
      kind: record.kind, by: partnerNames[Int(record.by)], to: partnerNames[Int(record.to)],
      outcome: record.outcome, rule: record.rule, transforms: transforms,
      heldAt: record.heldAt == .min ? nil : record.heldAt, engagement: Int(record.engagement))
    decision.owner = partnerNames[Int(record.owner)]
    decision.copyBefore = record.copyBefore
    decision.copyAfter = record.copyAfter
    decision.severedEarlier = record.severedEarlier
    decision.entryExists = record.entryExists
    return decision
  }

  private func notification(from record: NotificationRecord) -> PartnerNotification {
    let to: String
    switch record.recipient {
    case .ticket: to = "ticket"
    case .primaryContact: to = "primary-contact"
    case .resource(let number): to = engagements[Int(number) - 1].resource ?? "assigned-resource"
    }
    let message: NotificationMessage
    switch record.message {
    case .syncedChange(let by, let kind, let event, let released, let copy):
      message = .syncedChange(
        by: partnerNames[Int(by)], kind: kind, event: event, released: released, copy: copy)
    case .timeLogged(let by):
      message = .timeLogged(by: partnerNames[Int(by)])
    case .status(let type, let lead, let partner, let engagement):
      message = .status(
        type, lead: partnerNames[Int(lead)], partner: partnerNames[Int(partner)], engagement: Int(engagement))
    }
    return PartnerNotification(
      position: record.position, ticket: ticket, rule: record.rule, partner: partnerNames[Int(record.partner)],
      to: to, entry: record.entry < 0 ? nil : records[slot: Int(record.entry)].id, message: message)
  }
}

/// Where the items from position `first` on start in `items` (in the order of their positions),
/// found from the end: a write asks for its last few.
func startOfSuffix<Item>(_ items: [Item], from first: Int64, position: (Item) -> Int64) -> Int {
  var start = items.endIndex
  while start > items.startIndex, position(items[start - 1]) >= first { start -= 1 }
  return start
}
