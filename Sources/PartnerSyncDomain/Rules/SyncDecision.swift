/// What became of one change for one counterpart.
public enum SyncOutcome: String, Sendable, Hashable, Codable, CaseIterable {
  /// The change reached the other side.
  case synced
  /// The change stays on its own side.
  case notSynced = "not-synced"
  /// The change waits until the lead decides on the completion.
  case held
  /// A held change was applied when the lead rejected the completion.
  case released
  /// A held change was discarded when the engagement completed.
  case dropped
}

/// One sync decision: the unit of the audit.
public struct SyncDecision: Sendable, Hashable {
  /// The log position of the event that took the decision.
  public var position: Int64
  /// The type of the event at `position`.
  public var event: EventType
  /// The entry concerned.
  public var entry: String
  /// The kind of the entry as its owner keeps it.
  public var kind: EntryKind
  /// The partner whose change is decided.
  public var by: String
  /// The partner whose version the decision is about.
  public var to: String
  /// What became of the change.
  public var outcome: SyncOutcome
  /// The rule that decided it.
  public var rule: RuleID
  /// The transforms that shaped the copy left on the other side, if any.
  public var transforms: [RuleID]
  /// For `released` and `dropped`: the position of the held decision.
  public var heldAt: Int64?
  /// The engagement concerned.
  public var engagement: Int
  /// The partner that owns the entry (for a foreign change, `to`).
  public var owner: String
  /// Whether `to`'s version held the entry just before the decision.
  public var copyBefore = false
  /// Whether `to`'s version holds the entry just after the decision.
  public var copyAfter = false
  /// For a foreign change or a severed link: whether the entry's link in this engagement was
  /// severed before this decision.
  public var severedEarlier = false
  /// Whether the owner's entry still exists after the decision (it was not deleted).
  public var entryExists = true

  /// `true` when the decision withdrew a copy that the other side held (a shared entry that
  /// now fails a filter).
  public var withdrewCopy: Bool { outcome == .notSynced && copyBefore && !copyAfter }

  /// Creates a decision.
  public init(
    position: Int64, event: EventType, entry: String, kind: EntryKind, by: String, to: String,
    outcome: SyncOutcome, rule: RuleID, transforms: [RuleID] = [], heldAt: Int64? = nil,
    engagement: Int
  ) {
    self.position = position
    self.event = event
    self.entry = entry
    self.kind = kind
    self.by = by
    self.to = to
    self.outcome = outcome
    self.rule = rule
    self.transforms = transforms
    self.heldAt = heldAt
    self.engagement = engagement
    self.owner = by
  }
}

/// A notification in the outbox, for an embedding system to deliver.
public struct PartnerNotification: Sendable, Hashable {
  /// The log position of the event that caused it.
  public var position: Int64
  /// The ticket concerned.
  public var ticket: String
  /// The rule that sends it.
  public var rule: RuleID
  /// The organisation notified.
  public var partner: String
  /// Who in it: `primary-contact`, `ticket`, or the lead's assigned resource.
  public var to: String
  /// The entry concerned, if any.
  public var entry: String?
  /// What the message says, kept as facts and written out only when ``text`` is read: a replay
  /// of a large log makes many notifications whose text nobody reads.
  var message: Message

  /// The facts a message is written from.
  enum Message: Sendable {
    /// A text given as such.
    case written(String)
    /// `synced-change-notifies-partner`: `by`'s change reached the partner notified.
    case syncedChange(by: String, kind: EntryKind, event: EventType, released: Bool, copy: CopyChange)
    /// `subcontractor-time-notifies-resource`: `by` logged the time entry; `reached`: the lead's
    /// version held it just after (it was not held for a pending completion).
    case timeLogged(by: String, reached: Bool)
    /// `outsourcing-notifies-primary-contact`: a status event of an engagement.
    case status(EventType, lead: String, partner: String, engagement: Int)
  }

  /// The message.
  public var text: String {
    get { written() }
    set { message = .written(newValue) }
  }

  /// Creates a notification.
  public init(
    position: Int64, ticket: String, rule: RuleID, partner: String, to: String, entry: String?,
    text: String
  ) {
    self.init(
      position: position, ticket: ticket, rule: rule, partner: partner, to: to, entry: entry,
      message: .written(text))
  }

  init(
    position: Int64, ticket: String, rule: RuleID, partner: String, to: String, entry: String?,
    message: Message
  ) {
    self.position = position
    self.ticket = ticket
    self.rule = rule
    self.partner = partner
    self.to = to
    self.entry = entry
    self.message = message
  }

  /// Two notifications are equal when all their fields, the text included, are.
  public static func == (lhs: PartnerNotification, rhs: PartnerNotification) -> Bool {
    lhs.position == rhs.position && lhs.ticket == rhs.ticket && lhs.rule == rhs.rule
      && lhs.partner == rhs.partner && lhs.to == rhs.to && lhs.entry == rhs.entry
      && lhs.text == rhs.text
  }

  /// Hashes every field, the text included.
  public func hash(into hasher: inout Hasher) {
    hasher.combine(position)
    hasher.combine(ticket)
    hasher.combine(rule)
    hasher.combine(partner)
    hasher.combine(to)
    hasher.combine(entry)
    hasher.combine(text)
  }
}
