import Testing

@testable import PartnerSync
@testable import PartnerSyncDomain

/// Builds the events of one ticket, so that a test reads like its history.
///
/// `added` fills in what a kind requires when the test does not care (`hours` 1, an attachment
/// of type `file` named after its id, `amount` 10).
struct EventBuilder {
  var ticket = "T-1"

  func outsourced(
    _ partner: String, by lead: String = "acme", resource: String? = nil, rate: Double? = nil
  ) -> TicketEvent {
    event(lead, .outsourced(Outsourcing(partner: partner, resource: resource, rate: rate)))
  }

  func cancelled(by lead: String = "acme") -> TicketEvent { event(lead, .cancelled) }
  func declined(by partner: String = "bolt") -> TicketEvent {
    event(partner, .declined(reason: "No capacity"))
  }
  func accepted(by partner: String = "bolt") -> TicketEvent { event(partner, .accepted) }
  func requested(by partner: String = "bolt") -> TicketEvent {
    event(partner, .completionRequested)
  }
  func rejected(by lead: String = "acme", reason: String = "Missing photo") -> TicketEvent {
    event(lead, .completionRejected(reason: reason))
  }
  func approved(by lead: String = "acme") -> TicketEvent { event(lead, .completionApproved) }
  func completed(by lead: String = "acme") -> TicketEvent { event(lead, .completed) }

  /// The status event of `type` by `actor` (an `outsourced` one outsources to `crane`).
  func status(_ type: EventType, by actor: String) -> TicketEvent {
    switch type {
    case .outsourced: outsourced("crane", by: actor)
    case .cancelled: cancelled(by: actor)
    case .declined: declined(by: actor)
    case .accepted: accepted(by: actor)
    case .completionRequested: requested(by: actor)
    case .completionRejected: rejected(by: actor)
    case .completionApproved: approved(by: actor)
    case .completed: completed(by: actor)
    case .entryAdded: added("x-\(actor)", by: actor, .note, text: "x")
    case .entryEdited: edited("x-\(actor)", by: actor, text: "x")
    case .entryDeleted: deleted("x-\(actor)", by: actor)
    }
  }

  func added(
    _ id: String, by actor: String, _ kind: EntryKind, hours: Double? = nil, title: String? = nil,
    text: String? = nil, visibility: Visibility? = nil, type: AttachmentType? = nil,
    name: String? = nil, uri: String? = nil, amount: Double? = nil, billable: Bool? = nil
  ) -> TicketEvent {
    var content = EntryContent(
      kind: kind, hours: hours, title: title, text: text, visibility: visibility,
      attachmentType: type, name: name, uri: uri, amount: amount, billable: billable)
    switch kind {
    case .time: content.hours = hours ?? 1
    case .attachment:
      content.attachmentType = type ?? .file
      content.name = name ?? id
    case .charge: content.amount = amount ?? 10
    case .note: break
    }
    return event(actor, .entryAdded(entry: id, content: content))
  }

  func edited(
    _ id: String, by actor: String, hours: Double? = nil, title: String? = nil,
    text: String? = nil, visibility: Visibility? = nil, name: String? = nil, uri: String? = nil,
    amount: Double? = nil, billable: Bool? = nil
  ) -> TicketEvent {
    let changes = EntryContent(
      hours: hours, title: title, text: text, visibility: visibility, name: name, uri: uri,
      amount: amount, billable: billable)
    return event(actor, .entryEdited(entry: id, changes: changes))
  }

  func deleted(_ id: String, by actor: String) -> TicketEvent {
    event(actor, .entryDeleted(entry: id))
  }

  func event(_ actor: String, _ payload: EventPayload) -> TicketEvent {
    TicketEvent(ticket: ticket, by: actor, payload)
  }
}

/// The builder of ticket `T-1`.
let ev = EventBuilder()

/// Everything observable of a projection, to compare two of them.
struct Snapshot: Equatable {
  var views: [TicketView]
  var decisions: [SyncDecision]
  var notifications: [PartnerNotification]
  var position: Int64
  var version: Int64
}

/// One ticket's projection fed event by event, positions 1, 2, 3… one minute apart.
struct Ticket {
  static let start = Timestamp(microseconds: 1_772_442_000_000_000)  // 2026-03-02T09:00:00Z

  var projection: TicketProjection
  var recorded: [RecordedEvent] = []

  init(_ events: [TicketEvent] = [], rules: RuleSet = .standard) throws {
    projection = TicketProjection(ticket: "T-1", rules: rules)
    for event in events { try apply(event) }
  }

  static func time(of position: Int64) -> Timestamp {
    Timestamp(microseconds: start.microseconds + position * 60_000_000)
  }

  /// The position the next event gets.
  var next: Int64 { Int64(recorded.count) + 1 }

  mutating func apply(_ event: TicketEvent) throws(RefusedEvent) {
    var event = event
    event.at = Self.time(of: next)
    let recorded = RecordedEvent(position: next, version: next, at: event.at!, event: event)
    try projection.apply(recorded)
    self.recorded.append(recorded)
  }

  mutating func run(_ events: TicketEvent...) throws {
    for event in events { try apply(event) }
  }

  /// Applies `event`, expecting it refused and the projection unchanged; returns the reason.
  @discardableResult
  mutating func refuse(
    _ event: TicketEvent, sourceLocation: SourceLocation = #_sourceLocation
  ) -> String? {
    let before = snapshot()
    do {
      try apply(event)
      Issue.record("\(event.type.rawValue) by \(event.by) was accepted", sourceLocation: sourceLocation)
      return nil
    } catch {
      #expect(snapshot() == before, "a refused event changed the projection", sourceLocation: sourceLocation)
      #expect(!error.reason.isEmpty, sourceLocation: sourceLocation)
      return error.reason
    }
  }

  func view(_ partner: String, engagement: Int? = nil) throws -> TicketView {
    try projection.view(of: partner, engagement: engagement)
  }

  /// The ids of the entries in `partner`'s version, in order.
  func ids(_ partner: String, engagement: Int? = nil) throws -> [String] {
    try view(partner, engagement: engagement).entries.map(\.id)
  }

  func entry(_ id: String, of partner: String, engagement: Int? = nil) throws -> ViewEntry? {
    try view(partner, engagement: engagement).entries.first { $0.id == id }
  }

  /// The decisions about `entry` (towards `to`, when given), each as ``SyncDecision/brief``.
  func audit(_ entry: String, to: String? = nil) -> [String] {
    projection.decisions.filter { $0.entry == entry && (to == nil || $0.to == to) }.map(\.brief)
  }

  /// The decisions taken at `position`, each as ``SyncDecision/brief``.
  func audit(at position: Int64) -> [String] {
    projection.decisions.filter { $0.position == position }.map(\.brief)
  }

  func status(engagement: Int? = nil) -> OutsourceStatus? {
    guard let number = engagement ?? projection.currentEngagement else { return nil }
    return projection.engagements[number - 1].status
  }

  func snapshot() -> Snapshot { Snapshot(projection) }
}

extension Snapshot {
  /// The lead's view, then every engagement's partner version.
  init(_ projection: TicketProjection) {
    var views: [TicketView] = []
    if let lead = projection.lead, let view = try? projection.view(of: lead) { views.append(view) }
    for engagement in projection.engagements {
      if let view = try? projection.view(of: engagement.partner, engagement: engagement.number) {
        views.append(view)
      }
    }
    self.init(
      views: views, decisions: projection.decisions, notifications: projection.notifications,
      position: projection.position, version: projection.version)
  }
}

extension SyncDecision {
  /// `position entry by>to outcome rule [transforms] heldAt:n`, to compare decisions at a glance.
  var brief: String {
    var text = "\(position) \(entry) \(by)>\(to) \(outcome.rawValue) \(rule.rawValue)"
    if !transforms.isEmpty { text += " [" + transforms.map(\.rawValue).joined(separator: ",") + "]" }
    if let heldAt { text += " heldAt:\(heldAt)" }
    return text
  }
}

extension PartnerNotification {
  /// `position rule partner/to entry`.
  var brief: String { "\(position) \(rule.rawValue) \(partner)/\(to)" + (entry.map { " \($0)" } ?? "") }
}

extension EventBuilder {
  /// Adds an entry of `kind` labelled `label` (its `name` for an attachment, else its `title`).
  func labelled(_ id: String, by actor: String, _ kind: EntryKind, _ label: String) -> TicketEvent {
    kind == .attachment
      ? added(id, by: actor, kind, name: label) : added(id, by: actor, kind, title: label)
  }

  /// Changes the label of an entry of `kind` (its `name` for an attachment, else its `title`).
  func relabelled(_ id: String, by actor: String, _ kind: EntryKind, _ label: String) -> TicketEvent {
    kind == .attachment ? edited(id, by: actor, name: label) : edited(id, by: actor, title: label)
  }
}

extension ViewEntry {
  /// An attachment's `name`, any other entry's `title`.
  var label: String? { content.kind == .attachment ? content.name : content.title }
}
