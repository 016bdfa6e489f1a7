import OrderedCollections

/// Why the rules refuse an event: a transition from the wrong status, a partner acting where it
/// holds no version, an unknown entry…
public struct RefusedEvent: Error, Sendable, Hashable {
  /// One sentence: what is refused and why.
  public var reason: String

  init(_ reason: String) { self.reason = reason }
}

/// Everything the history of one ticket implies: both partners' versions, every sync decision
/// and every notification, built by folding the ticket's events in order through a ``RuleSet``.
///
/// The projection is a pure function of its events: no clock, no I/O. ``apply(_:)`` first checks
/// the event against the rules and throws ``RefusedEvent`` without changing anything when it is
/// refused, so that the same code validates new events and replays old ones.
public struct TicketProjection: Sendable {
  /// The ticket.
  public let ticket: String
  /// The rules applied.
  public let rules: RuleSet
  /// The lead partner: the actor of the first event.
  public internal(set) var lead: String?
  /// Every decision so far, in order.
  public internal(set) var decisions: [SyncDecision] = []
  /// Every notification so far, in order.
  public internal(set) var notifications: [PartnerNotification] = []
  /// The position of the last event applied (0 before any).
  public internal(set) var position: Int64 = 0
  /// How many events were applied: the ticket's version.
  public internal(set) var version: Int64 = 0

  var engagements: [EngagementState] = []
  var leadVersion = TicketVersion()
  /// Every entry of the ticket as its owner keeps it, by id, in the order the entries were added.
  var records: OrderedDictionary<String, EntryRecord> = [:]

  /// Creates the empty projection of `ticket`.
  public init(ticket: String, rules: RuleSet = .standard) {
    self.ticket = ticket
    self.rules = rules
  }

  /// The ticket's current (latest) engagement number, or `nil` when it was never outsourced.
  public var currentEngagement: Int? { engagements.last?.number }

  /// Every engagement of the ticket, in order (number 1 first), with its partner and status now.
  public var engagementSummaries: [EngagementSummary] {
    engagements.map { EngagementSummary(number: $0.number, partner: $0.partner, status: $0.status) }
  }

  /// A caption for every entry the ticket has had, deleted ones and system entries included, by
  /// id: its title as its owner keeps it now, else its attachment name, else its text. An entry
  /// with none of them is absent.
  public var entryTitles: [String: String] {
    Dictionary(uniqueKeysWithValues: records.compactMap { id, record in record.content.caption.map { (id, $0) } })
  }

  /// Whether the ticket has had entry `id`, deleted or not.
  package func hasRecord(of id: String) -> Bool { records.index(forKey: id) != nil }

  /// Checks `event` against the rules and, if they allow it, folds it into the projection.
  ///
  /// - Throws: ``RefusedEvent`` when the rules refuse the event; the projection is then unchanged.
  public mutating func apply(_ recorded: RecordedEvent) throws(RefusedEvent) {
    try apply(recorded.event, position: recorded.position)
  }

  /// ``apply(_:)`` for an event at `position` (the fold needs nothing else of it: no time).
  package mutating func apply(_ event: TicketEvent, position: Int64) throws(RefusedEvent) {
    guard event.ticket == ticket else {
      throw RefusedEvent("event of ticket \(event.ticket) applied to ticket \(ticket)")
    }
    let plan = try check(event)
    self.position = position
    version += 1
    perform(plan, event: event, at: position)
  }

  /// Whether the rules would accept `event` now, and if not, why.
  public func validate(_ event: TicketEvent) throws(RefusedEvent) {
    _ = try check(event)
  }

  /// The decisions from position `first` on (those at the end of ``decisions``).
  package func decisions(from first: Int64) -> ArraySlice<SyncDecision> {
    decisions[startOfSuffix(decisions, from: first, position: \.position)...]
  }

  /// The notifications from position `first` on (those at the end of ``notifications``).
  package func notifications(from first: Int64) -> ArraySlice<PartnerNotification> {
    notifications[startOfSuffix(notifications, from: first, position: \.position)...]
  }
}

/// Where the items from position `first` on start in `items` (in the order of their positions),
/// found from the end: a write asks for its last few.
package func startOfSuffix<Item>(_ items: [Item], from first: Int64, position: (Item) -> Int64) -> Int {
  var start = items.endIndex
  while start > items.startIndex, position(items[start - 1]) >= first { start -= 1 }
  return start
}

// MARK: - Checking

/// What an accepted event will do, worked out before anything changes. What the event itself
/// says (the outsourcing, the entry's id and content) is read from the event when it is
/// performed, not copied into the plan.
enum Plan {
  /// An `outsourced` event, by `lead` (the event's actor when it is the ticket's first).
  case outsource(lead: String)
  case status(EventType, engagement: Int)
  /// An entry event on `side`'s version.
  case entry(side: Side)
}

extension TicketProjection {
  func check(_ event: TicketEvent) throws(RefusedEvent) -> Plan {
    let by = event.by
    if case .outsourced(let o) = event.payload {
      if let rate = o.rate, let problem = NumberField.rate.problem(rate) { throw RefusedEvent("field \(problem)") }
      if let resource = o.resource, resource.allSatisfy(\.isWhitespace) {
        throw RefusedEvent("field 'resource' must not be blank")
      }
    }
    guard let lead else {
      switch event.payload {
      case .outsourced(let o):
        if o.partner == by {
          throw RefusedEvent("\(by) cannot outsource ticket \(ticket) to itself")
        }
        return .outsource(lead: by)
      case .entryAdded(let id, let content):
        try checkNewEntry(id, content)
        return .entry(side: .lead)
      default:
        throw RefusedEvent(
          "ticket \(ticket) has no history yet: its first event must be outsourced or entry-added, not \(event.type.rawValue)"
        )
      }
    }
    switch event.payload {
    case .outsourced(let o):
      try requireLead(by, lead: lead, for: event.type)
      if o.partner == lead {
        throw RefusedEvent("\(lead) cannot outsource ticket \(ticket) to itself")
      }
      if let status = engagements.last?.status, status.isOpen {
        let current = engagements[engagements.count - 1]
        throw RefusedEvent(
          "ticket \(ticket) already has an open engagement (\(current.number), with \(current.partner), \(status.rawValue)); it must be declined, cancelled or complete first"
        )
      }
      return .outsource(lead: lead)
    case .cancelled, .completionRejected, .completionApproved, .completed:
      try requireLead(by, lead: lead, for: event.type)
      let number = try currentEngagement(for: event.type)
      try requireStatus(number, for: event.type)
      if case .completionRejected(let reason) = event.payload, reason.allSatisfy(\.isWhitespace) {
        throw RefusedEvent("completion-rejected refused: the lead must give a reason that is not blank")
      }
      return .status(event.type, engagement: number)
    case .declined, .accepted, .completionRequested:
      let number = try currentEngagement(for: event.type)
      guard by == engagements[number - 1].partner else {
        throw RefusedEvent(
          "only \(engagements[number - 1].partner), the service partner of engagement \(number), may send \(event.type.rawValue) on ticket \(ticket), not \(by)"
        )
      }
      try requireStatus(number, for: event.type)
      return .status(event.type, engagement: number)
    case .entryAdded(let id, let content):
      let side = try side(of: by, lead: lead)
      if records.index(forKey: id) != nil {
        throw RefusedEvent(
          "entry id '\(id)' is already used on ticket \(ticket) (ids are unique for ever, even after deletion)")
      }
      try checkNewEntry(id, content)
      return .entry(side: side)
    case .entryEdited(let id, let changes):
      let side = try side(of: by, lead: lead)
      let kind = try visibleEntry(id, side: side, by: by, action: "edit") ?? .note
      let editable = kind.editableFields
      for field in EntryField.every where changes.has(field) && !editable.contains(field) {
        throw RefusedEvent(
          "\(by) cannot set '\(field.rawValue)' on entry '\(id)': in \(by)'s version it is \(kind.withArticle) (editable: "
            + editable.map(\.rawValue).joined(separator: ", ") + ")")
      }
      if changes.kind != nil || changes.isEmpty {
        throw RefusedEvent("\(by)'s edit of entry '\(id)' must change at least one field, and never the kind")
      }
      try checkValues(changes, entry: id)
      return .entry(side: side)
    case .entryDeleted(let id):
      let side = try side(of: by, lead: lead)
      _ = try visibleEntry(id, side: side, by: by, action: "delete")
      return .entry(side: side)
    }
  }

  /// A new entry: its id not reserved, and exactly the fields of its kind (DOMAIN.md's table).
  private func checkNewEntry(_ id: String, _ content: EntryContent) throws(RefusedEvent) {
    if Identifier.bundleNumber(id) != nil {
      throw RefusedEvent("entry id '\(id)' is reserved for completion bundles (bundle-<n>)")
    }
    guard let kind = content.kind else {
      throw RefusedEvent("entry '\(id)' needs a kind (time, note, attachment or charge)")
    }
    let fields = kind.fields
    for field in EntryField.every where content.has(field) && !fields.contains(field) {
      throw RefusedEvent(
        "field '\(field.rawValue)' does not belong to \(kind.withArticle) entry (its fields: "
          + fields.map(\.rawValue).joined(separator: ", ") + ")")
    }
    for field in kind.requiredFields where !content.has(field) {
      throw RefusedEvent("\(kind.withArticle) entry needs '\(field.rawValue)'")
    }
    try checkValues(content, entry: id)
  }

  /// The values of an entry's fields: hours and amount within their bounds (``NumberField``), a
  /// name not blank, and a visibility that a partner may set (`public` or `internal`).
  private func checkValues(_ content: EntryContent, entry id: String) throws(RefusedEvent) {
    if let hours = content.hours, let problem = NumberField.hours.problem(hours) {
      throw RefusedEvent("entry '\(id)': \(problem)")
    }
    if let amount = content.amount, let problem = NumberField.amount.problem(amount) {
      throw RefusedEvent("entry '\(id)': \(problem)")
    }
    if let name = content.name, name.allSatisfy(\.isWhitespace) {
      throw RefusedEvent("entry '\(id)': 'name' must not be blank")
    }
    if content.visibility == .internalUsersOnly {
      throw RefusedEvent("entry '\(id)': 'visibility' must be public or internal")
    }
  }

  private func requireLead(_ by: String, lead: String, for type: EventType) throws(RefusedEvent) {
    guard by == lead else {
      throw RefusedEvent("only \(lead), the lead of ticket \(ticket), may send \(type.rawValue), not \(by)")
    }
  }

  /// The number of the ticket's current engagement.
  private func currentEngagement(for type: EventType) throws(RefusedEvent) -> Int {
    guard !engagements.isEmpty else {
      throw RefusedEvent("\(type.rawValue) refused: ticket \(ticket) has never been outsourced")
    }
    return engagements.count
  }

  private func requireStatus(_ number: Int, for type: EventType) throws(RefusedEvent) {
    let status = engagements[number - 1].status
    let allowed = Self.allowedFrom(type)
    guard allowed.contains(status) else {
      throw RefusedEvent(
        "\(type.rawValue) refused: engagement \(number) of ticket \(ticket) is \(status.rawValue), and \(type.rawValue) is allowed only from "
          + allowed.map(\.rawValue).joined(separator: " or "))
    }
  }

  /// The statuses each status event may leave (the transition table of the domain).
  static func allowedFrom(_ type: EventType) -> [OutsourceStatus] {
    switch type {
    case .cancelled, .declined, .accepted: [.assigned]
    case .completionRequested: [.accepted, .inProgress]
    case .completionRejected, .completionApproved: [.waitingApproval]
    case .completed: [.accepted, .inProgress, .waitingApproval]
    case .outsourced, .entryAdded, .entryEdited, .entryDeleted: []
    }
  }

  /// The version `by` acts on: the lead's, or the one of its latest engagement.
  private func side(of by: String, lead: String) throws(RefusedEvent) -> Side {
    if by == lead { return .lead }
    guard let latest = engagements.lastIndex(where: { $0.partner == by }) else {
      throw RefusedEvent("\(by) is not a partner on ticket \(ticket) and holds no version of it")
    }
    let status = engagements[latest].status
    guard status.hasVersion else {
      throw RefusedEvent(
        "\(by) holds no version of ticket \(ticket): its engagement \(latest + 1) is \(status.rawValue)")
    }
    return .engagement(latest + 1)
  }

  /// The kind of entry `id` as `side`'s version holds it, once checked that `by` may change it there.
  private func visibleEntry(
    _ id: String, side: Side, by: String, action: String
  ) throws(RefusedEvent) -> EntryKind? {
    guard let kind = entryKind(id, in: side) else {
      // The same words whether or not the other version holds the entry: they must not tell a
      // partner of the other's entries that never reached it (its internal ones, say).
      throw RefusedEvent(
        "\(by) cannot \(action) entry '\(id)': \(by)'s version of ticket \(ticket) has no such entry (never added or copied there, or deleted)"
      )
    }
    if case .engagement(let n) = side, engagements[n - 1].status == .waitingApproval,
      !engagements[n - 1].frozen.isEmpty, engagements[n - 1].frozen.contains(id)
    {
      throw RefusedEvent(
        "\(by) cannot \(action) entry '\(id)' while engagement \(n) of ticket \(ticket) waits for approval: only entries added since the request may change"
      )
    }
    return kind
  }

  /// The kind of entry `id` in `side`'s version (`.some(nil)` for an entry without one), or `nil`
  /// when that version does not hold it. Reads the version where it is stored, without a copy.
  func entryKind(_ id: String, in side: Side) -> EntryKind?? {
    switch side {
    case .lead:
      leadVersion.index(forKey: id).map { leadVersion.values[$0].content.kind }
    case .engagement(let n):
      engagements[n - 1].version.flatMap { version in
        version.index(forKey: id).map { version.values[$0].content.kind }
      }
    }
  }
}
