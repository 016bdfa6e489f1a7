/// What became of one change for one counterpart.
public enum SyncOutcome: String, Sendable, Hashable, CaseIterable {
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
  /// `true` when the decision withdrew a copy that the other side held (a shared entry made
  /// internal).
  public var withdrewCopy = false

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
  }

  /// One sentence that a support engineer can read.
  public var because: String {
    let item = "\(by)'s \(kind.rawValue) \(entry)"
    switch rule {
    case .ownChangeSyncs:
      switch event {
      case .entryAdded:
        return "\(item) was added while sync was active, so it was copied to \(to)'s version"
          + transformClause + "."
      case .entryDeleted:
        return "\(item) was deleted while sync was active, so \(to)'s copy was removed too."
      default:
        return "\(item) was edited while sync was active, so \(to)'s copy was brought up to date"
          + transformClause + "."
      }
    case .copiedAtAcceptance:
      return "\(item) existed when \(to) accepted engagement \(engagement), so it was copied to \(to)'s version"
        + transformClause + "."
    case .internalNeverSyncs:
      return "\(item) is internal, and internal entries never leave their partner"
        + (withdrewCopy ? ", so the copy in \(to)'s version was withdrawn." : ".")
    case .linksNeverSync:
      return "\(item) is a link attachment, and only file attachments are copied."
    case .leadChargesStayLocal:
      return "\(item) is a charge of the lead, and the lead's charges are never copied to a service partner."
    case .foreignEditSevers:
      return
        "\(by) edited \(to)'s \(kind.rawValue) \(entry): only \(by)'s version changed and its link to \(to) is now severed."
    case .foreignDeleteSevers:
      return
        "\(by) deleted \(to)'s \(kind.rawValue) \(entry): it left \(by)'s version only and its link to \(to) is now severed."
    case .severedLink:
      return "The link between \(item) and \(to)'s copy was severed earlier, so this change stays with \(by)."
    case .suspendedWaitingApproval:
      return "Engagement \(engagement) was waiting for approval of completion, so this change to \(item) was held."
    case .releasedOnRejection:
      return
        "The lead rejected the completion, so the change to \(item) held at position \(heldAt ?? 0) was applied to \(to)'s version"
        + transformClause + "."
    case .droppedAtCompletion:
      return
        "Engagement \(engagement) completed while the change to \(item) held at position \(heldAt ?? 0) was waiting, so \(to) will never see it."
    case .syncEnded:
      return "Engagement \(engagement) is over (complete or superseded), so this change to \(item) stays local."
    case .timeBundledAtCompletion:
      return
        "At the completion of engagement \(engagement), \(by)'s time entries in \(to)'s version were bundled into the non-billable charge \(entry)."
    case .leadTimeAsNote, .partnerItemsInternalUsersOnly, .outsourcingNotifiesPrimaryContact,
      .syncedChangeNotifiesPartner, .subcontractorTimeNotifiesResource:
      return rule.summary
    }
  }

  private var transformClause: String {
    var parts: [String] = []
    if transforms.contains(.leadTimeAsNote) { parts.append("as a note (lead-time-as-note)") }
    if transforms.contains(.partnerItemsInternalUsersOnly) {
      parts.append("as internal-users-only (partner-items-internal-users-only)")
    }
    return parts.isEmpty ? "" : " " + parts.joined(separator: " and ")
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
  /// What the message says; written out only when ``text`` is read, because a replay of a large
  /// log makes many notifications whose text nobody reads.
  var message: NotificationMessage

  /// The message.
  public var text: String {
    get { message.text(ticket: ticket, partner: partner, entry: entry) }
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
    message: NotificationMessage
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

/// What a notification says, kept as its parts until its text is read.
enum NotificationMessage: Sendable {
  /// A text given as such.
  case written(String)
  /// `synced-change-notifies-partner`: `by`'s change reached the partner notified.
  case syncedChange(by: String, kind: EntryKind, event: EventType, released: Bool)
  /// `subcontractor-time-notifies-resource`: `by` logged the time entry.
  case timeLogged(by: String)
  /// `outsourcing-notifies-primary-contact`: a status event of an engagement.
  case status(EventType, lead: String, partner: String, engagement: Int)

  /// The text of a notification of `ticket` to `partner` about `entry`.
  func text(ticket: String, partner notified: String, entry: String?) -> String {
    switch self {
    case .written(let text):
      return text
    case .syncedChange(let by, let kind, let event, let released):
      return TicketProjection.syncedChangeText(
        by: by, kind: kind, entry: entry ?? "", event: event, released: released, to: notified,
        ticket: ticket)
    case .timeLogged(let by):
      return TicketProjection.timeLoggedText(by: by, entry: entry ?? "", ticket: ticket)
    case .status(let type, let lead, let partner, let number):
      return TicketProjection.statusText(type, lead: lead, partner: partner, engagement: number, ticket: ticket)
    }
  }
}
