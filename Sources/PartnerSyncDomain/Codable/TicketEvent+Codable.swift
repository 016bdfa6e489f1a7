// Events encode as the lines of the event format: `type`, `ticket`, `by`, `at` and the type's own
// fields as members of one object. A recorded event adds `position` and `version`, like an
// exported line (which has no `version`).

extension EventPayload: Codable {
  /// Encodes `type` and the type's own fields, as in the event format (an edit's changes
  /// without a kind).
  public func encode(to encoder: any Encoder) throws {
    var members = encoder.container(keyedBy: MemberKey.self)
    try members.encode(type, forKey: "type")
    switch self {
    case .outsourced(let outsourcing): try outsourcing.encode(to: encoder)
    case .declined(let reason): try members.encodeIfPresent(reason, forKey: "reason")
    case .completionRejected(let reason): try members.encode(reason, forKey: "reason")
    case .cancelled, .accepted, .completionRequested, .completionApproved, .completed: break
    case .entryAdded(let entry, let content):
      try members.encode(entry, forKey: "entry")
      try content.encode(to: encoder)
    case .entryEdited(let entry, var changes):
      try members.encode(entry, forKey: "entry")
      changes.kind = nil
      try changes.encode(to: encoder)
    case .entryDeleted(let entry): try members.encode(entry, forKey: "entry")
    }
  }

  /// Decodes `type` and the fields the type requires and allows (other members are ignored:
  /// the rules check the values when the event is recorded).
  /// - Throws: `DecodingError` for an unknown type or a missing required field (`partner`, a
  ///   rejection's `reason`, `entry`, an added entry's `kind`).
  public init(from decoder: any Decoder) throws {
    let members = try decoder.container(keyedBy: MemberKey.self)
    switch try members.decode(EventType.self, forKey: "type") {
    case .outsourced: self = .outsourced(try Outsourcing(from: decoder))
    case .cancelled: self = .cancelled
    case .declined: self = .declined(reason: try members.decodeIfPresent(String.self, forKey: "reason"))
    case .accepted: self = .accepted
    case .completionRequested: self = .completionRequested
    case .completionRejected: self = .completionRejected(reason: try members.decode(String.self, forKey: "reason"))
    case .completionApproved: self = .completionApproved
    case .completed: self = .completed
    case .entryAdded:
      let content = try EntryContent(from: decoder)
      guard content.kind != nil else {
        throw DecodingError.keyNotFound(
          MemberKey(stringValue: "kind"),
          DecodingError.Context(
            codingPath: members.codingPath, debugDescription: "an entry-added event needs the entry's kind"))
      }
      self = .entryAdded(entry: try members.decode(String.self, forKey: "entry"), content: content)
    case .entryEdited:
      var changes = try EntryContent(from: decoder)
      changes.kind = nil
      self = .entryEdited(entry: try members.decode(String.self, forKey: "entry"), changes: changes)
    case .entryDeleted: self = .entryDeleted(entry: try members.decode(String.self, forKey: "entry"))
    }
  }
}

extension TicketEvent: Codable {
  /// Encodes the event as a line of the event format: `type`, `ticket`, `by`, `at` when the
  /// event has a time, and the type's own fields.
  public func encode(to encoder: any Encoder) throws {
    var members = encoder.container(keyedBy: MemberKey.self)
    try members.encode(ticket, forKey: "ticket")
    try members.encode(by, forKey: "by")
    try members.encodeIfPresent(at, forKey: "at")
    try payload.encode(to: encoder)
  }

  /// Decodes a line of the event format (an exported line too: its `position` is ignored).
  public init(from decoder: any Decoder) throws {
    let members = try decoder.container(keyedBy: MemberKey.self)
    self.init(
      ticket: try members.decode(String.self, forKey: "ticket"), by: try members.decode(String.self, forKey: "by"),
      at: try members.decodeIfPresent(Timestamp.self, forKey: "at"), try EventPayload(from: decoder))
  }
}

extension RecordedEvent: Codable {
  /// Encodes the event as an exported line (`position`, and the event with `at` the recorded
  /// time) with its `version` in its ticket.
  public func encode(to encoder: any Encoder) throws {
    var members = encoder.container(keyedBy: MemberKey.self)
    try members.encode(position, forKey: "position")
    try members.encode(version, forKey: "version")
    var event = event
    event.at = at
    try event.encode(to: encoder)
  }

  /// Decodes an encoded recorded event; its event's time is the recorded time, as in a log.
  /// - Throws: `DecodingError` when `position`, `version` or `at` is missing.
  public init(from decoder: any Decoder) throws {
    let members = try decoder.container(keyedBy: MemberKey.self)
    let event = try TicketEvent(from: decoder)
    guard let at = event.at else {
      throw DecodingError.keyNotFound(
        MemberKey(stringValue: "at"),
        DecodingError.Context(codingPath: members.codingPath, debugDescription: "a recorded event has a time"))
    }
    self.init(
      position: try members.decode(Int64.self, forKey: "position"),
      version: try members.decode(Int64.self, forKey: "version"), at: at, event: event)
  }
}
