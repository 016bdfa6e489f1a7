extension TicketEvent {
  /// The event as one line of the import format (JSON Lines, without the line break): `type`,
  /// `ticket`, `by`, `at` when the event has a time, then its own fields in key order.
  ///
  /// ``PartnerSyncLog/importJSONLines(_:now:progress:)`` reads such lines back into equal events.
  public var jsonLine: String {
    var members: [(key: String, value: JSONValue)] = [
      ("type", .string(type.rawValue)),
      ("ticket", .string(ticket)),
      ("by", .string(by)),
    ]
    if let at { members.append(("at", .string(at.rfc3339))) }
    members += EventCodec.ownFields(of: payload).sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
    return JSONWriter.string(.object(members), sortedKeys: false)
  }
}

/// Why an event line could not be read as an event: the format is wrong, before any rule is asked.
struct EventFormatError: Error, Equatable {
  var message: String
  init(_ message: String) { self.message = message }
}

/// Reads and writes events in the JSON Lines format of the contract.
///
/// Stored events keep `type`, `ticket`, `by` and `at` in columns of the log and their own
/// fields as canonical JSON in its `data` column; this one codec serves both shapes.
enum EventCodec {
  /// The longest event line accepted, in bytes.
  static let maximumLineLength = 1 << 20

  static let envelopeFields: Set<String> = ["type", "ticket", "by", "at", "position"]

  /// Decodes one line's JSON object into an event (its `at`, when present, parsed).
  static func decode(line value: JSONValue) throws(EventFormatError) -> TicketEvent {
    guard case .object(let members) = value else {
      throw EventFormatError("an event must be a JSON object, found \(describe(value))")
    }
    var type: String?
    var ticket: String?
    var by: String?
    var at: Timestamp?
    var own: [(key: String, value: JSONValue)] = []
    own.reserveCapacity(members.count)
    for (key, value) in members {
      switch key {
      case "type": type = try string(value, field: key)
      case "ticket": ticket = try identifier(value, field: key)
      case "by": by = try identifier(value, field: key)
      case "at": at = try timestamp(value)
      case "position":
        guard case .number = value else {
          throw EventFormatError("field 'position' must be a number, found \(describe(value))")
        }
      default: own.append((key, value))
      }
    }
    guard let type else { throw EventFormatError("missing required field 'type'") }
    guard let eventType = EventType(rawValue: type) else {
      throw EventFormatError(
        "unknown event type '\(clip(type))' (expected one of: "
          + EventType.allCases.map(\.rawValue).joined(separator: ", ") + ")")
    }
    guard let ticket else { throw EventFormatError("missing required field 'ticket'") }
    guard let by else { throw EventFormatError("missing required field 'by'") }
    let payload = try decodePayload(eventType, fields: own)
    return TicketEvent(ticket: ticket, by: by, at: at, payload)
  }

  /// Decodes an event type's own fields.
  static func decodePayload(
    _ type: EventType, fields: [(key: String, value: JSONValue)]
  ) throws(EventFormatError) -> EventPayload {
    var reader = FieldReader(type: type, fields: fields)
    let payload: EventPayload
    switch type {
    case .outsourced:
      let partner = try reader.identifier("partner", required: true)!
      let resource = try reader.text("resource")
      if let resource, resource.allSatisfy(\.isWhitespace) {
        throw EventFormatError("field 'resource' must not be blank")
      }
      let rate = try reader.number("rate")
      if let rate, rate < 0 { throw EventFormatError("field 'rate' must not be negative") }
      payload = .outsourced(Outsourcing(partner: partner, resource: resource, rate: rate))
    case .cancelled: payload = .cancelled
    case .declined: payload = .declined(reason: try reader.text("reason"))
    case .accepted: payload = .accepted
    case .completionRequested: payload = .completionRequested
    case .completionRejected:
      guard let reason = try reader.text("reason") else {
        throw EventFormatError("a completion-rejected event needs a 'reason'")
      }
      if reason.allSatisfy(\.isWhitespace) {
        throw EventFormatError("field 'reason' must not be blank")
      }
      payload = .completionRejected(reason: reason)
    case .completionApproved: payload = .completionApproved
    case .completed: payload = .completed
    case .entryAdded:
      let id = try reader.identifier("entry", required: true)!
      if Identifier.bundleNumber(id) != nil {
        throw EventFormatError("entry id '\(id)' is reserved for completion bundles (bundle-<n>)")
      }
      guard let kindName = try reader.text("kind") else {
        throw EventFormatError("an entry-added event needs a 'kind' (time, note, attachment or charge)")
      }
      guard let kind = EntryKind(rawValue: kindName) else {
        throw EventFormatError(
          "unknown entry kind '\(clip(kindName))' (expected time, note, attachment or charge)")
      }
      var content = try reader.entryContent(allowed: kind.fields, kind: kind)
      content.kind = kind
      for field in kind.requiredFields where !content.has(field) {
        throw EventFormatError("a \(kind.rawValue) entry needs '\(field.rawValue)'")
      }
      payload = .entryAdded(entry: id, content: content)
    case .entryEdited:
      let id = try reader.identifier("entry", required: true)!
      if reader.has("kind") { throw EventFormatError("an entry's 'kind' cannot be edited") }
      if reader.has("attachmentType") {
        throw EventFormatError("an attachment's 'attachmentType' cannot be edited")
      }
      let changes = try reader.entryContent(allowed: EntryField.allCases, kind: nil)
      if changes.presentFields.isEmpty {
        throw EventFormatError("an entry-edited event needs at least one field to change")
      }
      payload = .entryEdited(entry: id, changes: changes)
    case .entryDeleted:
      payload = .entryDeleted(entry: try reader.identifier("entry", required: true)!)
    }
    try reader.finish()
    return payload
  }

  // MARK: Writing

  /// The event's own fields as canonical JSON (sorted keys), as stored in the log's `data` column.
  static func data(of payload: EventPayload) -> String {
    JSONWriter.string(.object(ownFields(of: payload)), sortedKeys: true)
  }

  /// One exported line: `position`, `type`, `ticket`, `by`, `at`, then the own fields sorted.
  static func exportLine(_ recorded: RecordedEvent) -> String {
    var members: [(key: String, value: JSONValue)] = [
      ("position", .number(Double(recorded.position))),
      ("type", .string(recorded.event.type.rawValue)),
      ("ticket", .string(recorded.event.ticket)),
      ("by", .string(recorded.event.by)),
      ("at", .string(recorded.at.rfc3339)),
    ]
    members += ownFields(of: recorded.event.payload).sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
    return JSONWriter.string(.object(members), sortedKeys: false)
  }

  static func ownFields(of payload: EventPayload) -> [(key: String, value: JSONValue)] {
    var out: [(key: String, value: JSONValue)] = []
    switch payload {
    case .outsourced(let o):
      out.append(("partner", .string(o.partner)))
      if let r = o.resource { out.append(("resource", .string(r))) }
      if let r = o.rate { out.append(("rate", .number(r))) }
    case .declined(let reason):
      if let reason { out.append(("reason", .string(reason))) }
    case .completionRejected(let reason): out.append(("reason", .string(reason)))
    case .cancelled, .accepted, .completionRequested, .completionApproved, .completed: break
    case .entryAdded(let id, let content):
      out.append(("entry", .string(id)))
      if let kind = content.kind { out.append(("kind", .string(kind.rawValue))) }
      out += fields(of: content)
    case .entryEdited(let id, let changes):
      out.append(("entry", .string(id)))
      out += fields(of: changes)
    case .entryDeleted(let id): out.append(("entry", .string(id)))
    }
    return out
  }

  /// The present fields of `content` as JSON members (kind excluded).
  static func fields(of content: EntryContent) -> [(key: String, value: JSONValue)] {
    var out: [(key: String, value: JSONValue)] = []
    if let v = content.hours { out.append(("hours", .number(v))) }
    if let v = content.title { out.append(("title", .string(v))) }
    if let v = content.text { out.append(("text", .string(v))) }
    if let v = content.visibility { out.append(("visibility", .string(v.rawValue))) }
    if let v = content.attachmentType { out.append(("attachmentType", .string(v.rawValue))) }
    if let v = content.name { out.append(("name", .string(v))) }
    if let v = content.uri { out.append(("uri", .string(v))) }
    if let v = content.amount { out.append(("amount", .number(v))) }
    if let v = content.billable { out.append(("billable", .bool(v))) }
    return out
  }

  // MARK: Field helpers

  static func describe(_ value: JSONValue) -> String {
    switch value {
    case .null: "null"
    case .bool: "a boolean"
    case .number: "a number"
    case .string: "a string"
    case .array: "an array"
    case .object: "an object"
    }
  }

  /// A value shortened for an error message, so that a hostile 10 MB value cannot flood it.
  static func clip(_ text: String) -> String {
    text.count <= 40 ? text : String(text.prefix(40)) + "…"
  }

  static func string(_ value: JSONValue, field: String) throws(EventFormatError) -> String {
    guard case .string(let s) = value else {
      throw EventFormatError("field '\(field)' must be a string, found \(describe(value))")
    }
    if s.utf8.contains(0) { throw EventFormatError("field '\(field)' contains a NUL character") }
    return s
  }

  static func identifier(_ value: JSONValue, field: String) throws(EventFormatError) -> String {
    let s = try string(value, field: field)
    if let problem = Identifier.problem(with: s) {
      throw EventFormatError("field '\(field)' \(problem)")
    }
    return s
  }

  static func timestamp(_ value: JSONValue) throws(EventFormatError) -> Timestamp {
    let s = try string(value, field: "at")
    switch Timestamp.parse(s) {
    case .success(let t): return t
    case .failure(let error):
      throw EventFormatError("field 'at' is not an RFC 3339 time ('\(clip(s))': \(error.message))")
    }
  }
}

/// Reads the own fields of one event, remembering which were used so that unknown ones are refused.
private struct FieldReader {
  let type: EventType
  var remaining: [String: JSONValue] = [:]

  init(type: EventType, fields: [(key: String, value: JSONValue)]) {
    self.type = type
    for (key, value) in fields { remaining[key] = value }
  }

  func has(_ key: String) -> Bool { remaining[key] != nil }

  mutating func take(_ key: String) -> JSONValue? { remaining.removeValue(forKey: key) }

  mutating func text(_ key: String) throws(EventFormatError) -> String? {
    guard let value = take(key) else { return nil }
    return try EventCodec.string(value, field: key)
  }

  mutating func identifier(_ key: String, required: Bool) throws(EventFormatError) -> String? {
    guard let value = take(key) else {
      if required { throw EventFormatError("a \(type.rawValue) event needs '\(key)'") }
      return nil
    }
    return try EventCodec.identifier(value, field: key)
  }

  mutating func number(_ key: String) throws(EventFormatError) -> Double? {
    guard let value = take(key) else { return nil }
    guard case .number(let n) = value, n.isFinite else {
      throw EventFormatError("field '\(key)' must be a number, found \(EventCodec.describe(value))")
    }
    return n
  }

  mutating func bool(_ key: String) throws(EventFormatError) -> Bool? {
    guard let value = take(key) else { return nil }
    guard case .bool(let b) = value else {
      throw EventFormatError(
        "field '\(key)' must be true or false, found \(EventCodec.describe(value))")
    }
    return b
  }

  /// Reads the entry fields in `allowed`; a known entry field outside `allowed` is named as
  /// not belonging to `kind`.
  mutating func entryContent(
    allowed: [EntryField], kind: EntryKind?
  ) throws(EventFormatError) -> EntryContent {
    var content = EntryContent()
    for field in EntryField.allCases where has(field.rawValue) {
      guard allowed.contains(field) else {
        let kindName = kind.map { "a \($0.rawValue) entry" } ?? "this entry"
        throw EventFormatError(
          "field '\(field.rawValue)' does not belong to \(kindName) (its fields: "
            + allowed.map(\.rawValue).joined(separator: ", ") + ")")
      }
      let key = field.rawValue
      switch field {
      case .hours:
        let hours = try number(key)!
        guard hours > 0 else { throw EventFormatError("field 'hours' must be greater than 0") }
        content.hours = hours
      case .title: content.title = try text(key)
      case .text: content.text = try text(key)
      case .name:
        let name = try text(key)!
        if name.allSatisfy(\.isWhitespace) { throw EventFormatError("field 'name' must not be blank") }
        content.name = name
      case .uri: content.uri = try text(key)
      case .amount: content.amount = try number(key)
      case .billable: content.billable = try bool(key)
      case .visibility:
        let raw = try text(key)!
        guard let v = Visibility(rawValue: raw), v != .internalUsersOnly else {
          throw EventFormatError(
            "field 'visibility' must be 'public' or 'internal', found '\(EventCodec.clip(raw))'")
        }
        content.visibility = v
      case .attachmentType:
        let raw = try text(key)!
        guard let t = AttachmentType(rawValue: raw) else {
          throw EventFormatError(
            "field 'attachmentType' must be file, url, file-link or folder-link, found '\(EventCodec.clip(raw))'"
          )
        }
        content.attachmentType = t
      }
    }
    return content
  }

  /// Refuses any field left unread.
  func finish() throws(EventFormatError) {
    guard let key = remaining.keys.min() else { return }
    throw EventFormatError("unknown field '\(EventCodec.clip(key))' for a \(type.rawValue) event")
  }
}
