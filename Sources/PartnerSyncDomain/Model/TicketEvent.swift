/// The types of event, named as in the event format.
public enum EventType: String, Sendable, Hashable, Codable, CaseIterable {
  /// The lead sends the ticket to a service partner.
  case outsourced
  /// The lead withdraws an unanswered offer.
  case cancelled
  /// The service partner refuses the ticket.
  case declined
  /// The service partner accepts; its version of the ticket now exists.
  case accepted
  /// The service partner declares the work complete.
  case completionRequested = "completion-requested"
  /// The lead sends the work back, with a reason.
  case completionRejected = "completion-rejected"
  /// The lead approves the completion.
  case completionApproved = "completion-approved"
  /// The lead ends the engagement itself.
  case completed
  /// A partner adds an entry to its version.
  case entryAdded = "entry-added"
  /// A partner changes fields of an entry in its version.
  case entryEdited = "entry-edited"
  /// A partner deletes an entry from its version.
  case entryDeleted = "entry-deleted"
}

/// The details of an `outsourced` event, encoded as its members (`partner`, and `resource` and
/// `rate` when present).
public struct Outsourcing: Sendable, Hashable, Codable {
  /// The service partner the ticket is sent to.
  public var partner: String
  /// The lead's resource assigned to the ticket, notified of the partner's time entries.
  public var resource: String?
  /// Hourly cost rate, used to price the completion bundle.
  public var rate: Double?

  /// Creates the details of an `outsourced` event.
  public init(partner: String, resource: String? = nil, rate: Double? = nil) {
    self.partner = partner
    self.resource = resource
    self.rate = rate
  }
}

/// What an event says, by type.
public enum EventPayload: Sendable, Hashable {
  /// See ``EventType/outsourced``.
  case outsourced(Outsourcing)
  /// See ``EventType/cancelled``.
  case cancelled
  /// See ``EventType/declined``.
  case declined(reason: String?)
  /// See ``EventType/accepted``.
  case accepted
  /// See ``EventType/completionRequested``.
  case completionRequested
  /// See ``EventType/completionRejected``.
  case completionRejected(reason: String)
  /// See ``EventType/completionApproved``.
  case completionApproved
  /// See ``EventType/completed``.
  case completed
  /// See ``EventType/entryAdded``; `content.kind` is set.
  case entryAdded(entry: String, content: EntryContent)
  /// See ``EventType/entryEdited``; `changes` holds only the fields that change.
  case entryEdited(entry: String, changes: EntryContent)
  /// See ``EventType/entryDeleted``.
  case entryDeleted(entry: String)

  /// The event type of this payload.
  public var type: EventType {
    switch self {
    case .outsourced: .outsourced
    case .cancelled: .cancelled
    case .declined: .declined
    case .accepted: .accepted
    case .completionRequested: .completionRequested
    case .completionRejected: .completionRejected
    case .completionApproved: .completionApproved
    case .completed: .completed
    case .entryAdded: .entryAdded
    case .entryEdited: .entryEdited
    case .entryDeleted: .entryDeleted
    }
  }

  /// The entry concerned, for entry events.
  public var entry: String? {
    switch self {
    case .entryAdded(let id, _), .entryEdited(let id, _), .entryDeleted(let id): id
    default: nil
    }
  }
}

/// One partner action on one ticket: the unit of the history.
public struct TicketEvent: Sendable, Hashable {
  /// The lead's ticket number.
  public var ticket: String
  /// The partner that acted.
  public var by: String
  /// When it happened at the source; `nil` until recorded (the log then uses the time of recording).
  public var at: Timestamp?
  /// What happened.
  public var payload: EventPayload

  /// Creates an event.
  public init(ticket: String, by: String, at: Timestamp? = nil, _ payload: EventPayload) {
    self.ticket = ticket
    self.by = by
    self.at = at
    self.payload = payload
  }

  /// The event's type.
  public var type: EventType { payload.type }
}

/// An event as it sits in the log: the event and its place.
public struct RecordedEvent: Sendable, Hashable {
  /// The event's position in the whole log (1, 2, 3…).
  public var position: Int64
  /// The event's version within its ticket (1, 2, 3…).
  public var version: Int64
  /// The time it happened (given, or the time of recording).
  public var at: Timestamp
  /// The event.
  public var event: TicketEvent

  /// Creates a recorded event.
  public init(position: Int64, version: Int64, at: Timestamp, event: TicketEvent) {
    self.position = position
    self.version = version
    self.at = at
    self.event = event
  }
}
