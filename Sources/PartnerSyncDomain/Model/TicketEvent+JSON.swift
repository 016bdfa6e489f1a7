#if canImport(Glibc)
  import Glibc  // memchr
#else
  import Darwin
#endif

extension TicketEvent {
  /// The event as one line of the import format (JSON Lines, without the line break): `type`,
  /// `ticket`, `by`, `at` when the event has a time, then its own fields in key order.
  ///
  /// ``PartnerSyncLog/importJSONLines(_:now:keepingDecisions:progress:)-([UInt8],_,_,_)`` reads such lines back into equal events.
  public var jsonLine: String { EventCodec.line(self, at: at) }
}

/// Why an event line could not be read as an event: the format is wrong, before any rule is asked.
package struct EventFormatError: Error, Equatable {
  package var message: String
  package init(_ message: String) { self.message = message }
}

/// Reads and writes events in the JSON Lines format of the contract.
///
/// Stored events keep `type`, `ticket`, `by` and `at` in columns of the log and their own
/// fields as canonical JSON in its `data` column; this one codec serves both shapes. Both are
/// read in place by `JSONParser.withFlatObject`, whose members are then read by name.
///
/// The codec checks the format only: each field has the JSON type (and, for names such as a
/// kind, one of the values) that the format gives it, identifiers have their syntax, the fields
/// an event type requires are there, and no other field is. What the values mean (bounds,
/// blank texts, the fields of each entry kind, reserved ids) is checked once, by the rules
/// (`TicketProjection.check`).
package enum EventCodec {
  /// The longest event line accepted, in bytes.
  package static let maximumLineLength = 1 << 20

  /// Decodes one event line: a JSON error (`JSONParseError`) or a format error
  /// (`EventFormatError`) refuses it.
  package static func decode(line bytes: UnsafeBufferPointer<UInt8>) throws -> TicketEvent {
    try JSONParser.withFlatObject(bytes) { read in
      Result { () throws(EventFormatError) in try decode(line: read) }
    }.get()
  }

  /// Decodes one line's JSON value into an event (its `at`, when present, parsed).
  package static func decode(line read: JSONFlatRead) throws(EventFormatError) -> TicketEvent {
    guard case .object(let object) = read else {
      guard case .notAnObject(let value) = read else { preconditionFailure() }
      throw EventFormatError("an event must be a JSON object, found \(describe(value))")
    }
    var fields = Fields(object, envelope: true)
    var typeName: JSONStringBytes?
    var ticket: String?
    var by: String?
    var at: Timestamp?
    // The envelope's fields are checked in the order of the line.
    var order = fields.envelopeOrder
    while order != 0 {
      let key = FieldKey(rawValue: Int(order & 7) - 1)!
      order >>= 3
      switch key {
      case .type: typeName = try fields.stringBytes(.type)
      case .ticket: ticket = try fields.identifier(.ticket, required: false)
      case .by: by = try fields.identifier(.by, required: false)
      case .at:
        let text = try fields.stringBytes(.at)!
        switch object.withBytes(text, { Timestamp.parse(utf8: $0) }) {
        case .success(let time): at = time
        case .failure(let error):
          throw EventFormatError(
            "field 'at' is not an RFC 3339 time ('\(clip(object.string(text)))': \(error.message))")
        }
      default:  // position: written by `export`, ignored by `import` (CONTRACT.md), whatever it holds
        _ = fields.take(.position)
      }
    }
    guard let typeName else { throw EventFormatError("missing required field 'type'") }
    guard let type = object.withBytes(typeName, eventTypes.value) else {
      throw EventFormatError(
        "unknown event type '\(clip(object.string(typeName)))' (expected one of: "
          + EventType.allCases.map(\.rawValue).joined(separator: ", ") + ")")
    }
    guard let ticket else { throw EventFormatError("missing required field 'ticket'") }
    guard let by else { throw EventFormatError("missing required field 'by'") }
    fields.type = type
    let payload = try decodePayload(&fields)
    return TicketEvent(ticket: ticket, by: by, at: at, payload)
  }

  /// Decodes an event's own fields from the bytes of its stored `data` (a JSON object) into
  /// `payload`, or returns `false` (leaving `payload` alone) when they are not an event's
  /// fields: ``decodePayload(_:data:)`` then says why.
  package static func decodePayload(
    _ type: EventType, data: UnsafeBufferPointer<UInt8>, into payload: inout EventPayload
  ) -> Bool {
    let read = try? JSONParser.withFlatObject(data) { read -> Bool in
      guard case .object(let object) = read else { return false }
      var fields = Fields(object, envelope: false)
      fields.type = type
      guard let decoded = try? decodePayload(&fields) else { return false }
      payload = decoded
      return true
    }
    return read == true
  }

  /// Decodes an event's own fields from the bytes of its stored `data`: a JSON error
  /// (`JSONParseError`) or a format error (`EventFormatError`) refuses them.
  package static func decodePayload(_ type: EventType, data: UnsafeBufferPointer<UInt8>) throws -> EventPayload {
    try JSONParser.withFlatObject(data) { read in
      Result { () throws(EventFormatError) in
        guard case .object(let object) = read else { throw EventFormatError("its data is not a JSON object") }
        var fields = Fields(object, envelope: false)
        fields.type = type
        return try decodePayload(&fields)
      }
    }.get()
  }

  /// Decodes an event type's own fields, then refuses any other.
  private static func decodePayload(_ fields: inout Fields) throws(EventFormatError) -> EventPayload {
    let payload: EventPayload
    switch fields.type {
    case .outsourced:
      let partner = try fields.identifier(.partner, required: true)!
      payload = .outsourced(
        Outsourcing(partner: partner, resource: try fields.string(.resource), rate: try fields.number(.rate)))
    case .cancelled: payload = .cancelled
    case .declined: payload = .declined(reason: try fields.string(.reason))
    case .accepted: payload = .accepted
    case .completionRequested: payload = .completionRequested
    case .completionRejected:
      guard let reason = try fields.string(.reason) else {
        throw EventFormatError("a completion-rejected event needs a 'reason'")
      }
      payload = .completionRejected(reason: reason)
    case .completionApproved: payload = .completionApproved
    case .completed: payload = .completed
    case .entryAdded:
      let id = try fields.identifier(.entry, required: true)!
      guard let kindName = try fields.stringBytes(.kind) else {
        throw EventFormatError("an entry-added event needs a 'kind' (time, note, attachment or charge)")
      }
      guard let kind = fields.object.withBytes(kindName, entryKinds.value) else {
        throw EventFormatError(
          "unknown entry kind '\(clip(fields.object.string(kindName)))' (expected time, note, attachment or charge)")
      }
      payload = .entryAdded(entry: id, content: try fields.entryContent(kind: kind))
    case .entryEdited:
      let id = try fields.identifier(.entry, required: true)!
      if fields.has(.kind) { throw EventFormatError("an entry's 'kind' cannot be edited") }
      if fields.has(.attachmentType) {
        throw EventFormatError("an attachment's 'attachmentType' cannot be edited")
      }
      payload = .entryEdited(entry: id, changes: try fields.entryContent(kind: nil))
    case .entryDeleted:
      payload = .entryDeleted(entry: try fields.identifier(.entry, required: true)!)
    }
    try fields.finish()
    return payload
  }

  // MARK: Names

  /// The event types, entry kinds, visibilities an event may give (not the lead's own
  /// `internal-users-only`) and attachment types, by name.
  static let eventTypes = ByteNames(EventType.self)
  static let entryKinds = ByteNames(EntryKind.self)
  static let visibilities = ByteNames([Visibility.public, .internal], name: \.rawValue)
  static let attachmentTypes = ByteNames(AttachmentType.self)

  /// The event type named by the UTF-8 text `bytes` (a stored event's type column).
  package static func eventType(_ bytes: UnsafeBufferPointer<UInt8>) -> EventType? {
    eventTypes.value(bytes)
  }

  /// The bytes of the value of the first `"ticket"` key of the line, when it is a string without
  /// escapes; else `nil`.
  ///
  /// In a line that is a valid event (a flat JSON object with one `ticket` member) this is the
  /// ticket the parser reads: a quote that no backslash precedes delimits a string (inside one,
  /// a quote is escaped), and in valid JSON a delimiting quote followed by `ticket"` opens that
  /// string (a closing quote is followed by `,`, `:`, `}` or space); followed by `:` the string is
  /// a key (a value is followed by `,` or `}`), and the value's bytes are the string itself when
  /// it has no escapes. For a line that is not a valid event, whatever this finds is harmless:
  /// parsing the line reports it.
  package static func plainTicket(in line: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8>? {
    let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")
    func skipSpace(_ position: inout Int) {
      while position < line.count, [0x20, 0x09, 0x0D, 0x0A].contains(line[position]) { position += 1 }
    }
    var position = -1
    while true {
      position += 1
      while position < line.count, line[position] != quote { position += 1 }
      guard position + 8 <= line.count else { return nil }
      guard position == 0 || line[position - 1] != backslash,
        line[position..<position + 8].elementsEqual(#""ticket""#.utf8)
      else { continue }
      var next = position + 8
      skipSpace(&next)
      guard next < line.count, line[next] == UInt8(ascii: ":") else { continue }
      next += 1
      skipSpace(&next)
      guard next < line.count, line[next] == quote else { return nil }
      let valueStart = next + 1
      var end = valueStart
      while end < line.count, line[end] != quote {
        if line[end] == backslash { return nil }
        end += 1
      }
      guard end < line.count else { return nil }
      return UnsafeBufferPointer(rebasing: line[valueStart..<end])
    }
  }

  // MARK: Writing

  /// The event's own fields as canonical JSON (sorted keys), as stored in the log's `data` column.
  package static func data(of payload: EventPayload) -> String {
    withData(of: payload) { String(decoding: $0, as: UTF8.self) }
  }

  /// The stored `data` of `payload`, as ``data(of:)`` writes it, lent to `body` as UTF-8 bytes
  /// that are valid only during `body`.
  package static func withData<Result>(
    of payload: EventPayload, _ body: (UnsafeBufferPointer<UInt8>) throws -> Result
  ) rethrows -> Result {
    try JSONWriter.object({ writeOwnFields(of: payload, into: &$0) }, body)
  }

  /// One exported line: `position`, `type`, `ticket`, `by`, `at`, then the own fields sorted.
  package static func exportLine(_ recorded: RecordedEvent) -> String {
    line(recorded.event, position: recorded.position, at: recorded.at)
  }

  /// A line of `event`: `position` when given, `type`, `ticket`, `by`, `at` when given, then the
  /// own fields sorted.
  static func line(_ event: TicketEvent, position: Int64? = nil, at: Timestamp?) -> String {
    JSONWriter.object(
      { members in
        if let position { members.number("position", Double(position)) }
        members.string("type", event.type.rawValue)
        members.string("ticket", event.ticket)
        members.string("by", event.by)
        if let at { members.string("at", at.rfc3339) }
        writeOwnFields(of: event.payload, into: &members)
      }, { String(decoding: $0, as: UTF8.self) })
  }

  /// Writes the own fields of `payload` in the byte order of their keys, which for every key an
  /// event can have is: `amount`, `attachmentType`, `billable`, `entry`, `hours`, `kind`,
  /// `name`, `partner`, `rate`, `reason`, `resource`, `text`, `title`, `uri`, `visibility`.
  package static func writeOwnFields(of payload: EventPayload, into members: inout ObjectMembers) {
    switch payload {
    case .outsourced(let o):
      members.string("partner", o.partner)
      if let rate = o.rate { members.number("rate", rate) }
      if let resource = o.resource { members.string("resource", resource) }
    case .declined(let reason):
      if let reason { members.string("reason", reason) }
    case .completionRejected(let reason):
      members.string("reason", reason)
    case .cancelled, .accepted, .completionRequested, .completionApproved, .completed:
      break
    case .entryAdded(let id, let content):
      writeEntryFields(of: content, entry: id, kind: true, into: &members)
    case .entryEdited(let id, let changes):
      writeEntryFields(of: changes, entry: id, kind: false, into: &members)
    case .entryDeleted(let id):
      members.string("entry", id)
    }
  }

  /// `entry` and the present fields of `content` (with its kind when `kind`), in key order.
  private static func writeEntryFields(
    of c: EntryContent, entry: String, kind: Bool, into members: inout ObjectMembers
  ) {
    if let v = c.amount { members.number("amount", v) }
    if let v = c.attachmentType { members.string("attachmentType", v.rawValue) }
    if let v = c.billable { members.bool("billable", v) }
    members.string("entry", entry)
    if let v = c.hours { members.number("hours", v) }
    if kind, let v = c.kind { members.string("kind", v.rawValue) }
    if let v = c.name { members.string("name", v) }
    if let v = c.text { members.string("text", v) }
    if let v = c.title { members.string("title", v) }
    if let v = c.uri { members.string("uri", v) }
    if let v = c.visibility { members.string("visibility", v.rawValue) }
  }

  /// The present fields of `content` as JSON members (kind excluded).
  package static func fields(of content: EntryContent) -> [(key: String, value: JSONValue)] {
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

  static func describe(_ value: JSONFlatObject.Value) -> String {
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
}

/// The fields an event can have, by key: the envelope's first.
private enum FieldKey: Int, CaseIterable {
  case type, ticket, by, at, position
  case partner, resource, rate, reason, entry, kind
  case hours, title, text, visibility, attachmentType, name, uri, amount, billable

  /// The fields by key.
  static let keys = ByteNames(allCases) { "\($0)" }

  /// Whether the field is one of the envelope's (`type`, `ticket`, `by`, `at`, `position`).
  var isEnvelope: Bool { rawValue <= FieldKey.position.rawValue }

  /// The field's key.
  var name: String { "\(self)" }

  var bit: UInt32 { 1 << UInt32(rawValue) }
}

/// The fields of one event, found by key in one pass over its members, then read by name and
/// each checked for its JSON type; those left unread at the end are refused as unknown.
private struct Fields {
  let object: JSONFlatObject
  var type = EventType.accepted
  /// By field: the index of the member that has it, or -1.
  private var places = SIMD32<Int32>(repeating: -1)
  /// The fields present, and those read.
  private var present: UInt32 = 0
  private var taken: UInt32 = 0
  /// Whether a member has a key that is no field (the envelope's count as none in stored data).
  private var hasUnknown = false
  /// The envelope's fields present, in the order of the members: each as 1 + its raw value,
  /// three bits each, the first in the lowest bits.
  private(set) var envelopeOrder: UInt32 = 0

  /// The fields of `object`; `envelope` says whether it may have the envelope's.
  init(_ object: JSONFlatObject, envelope: Bool) {
    self.object = object
    var shift: UInt32 = 0
    for index in object.members.indices {
      guard let key = object.withBytes(object.members[index].key, FieldKey.keys.value),
        envelope || !key.isEnvelope
      else {
        hasUnknown = true
        continue
      }
      places[key.rawValue] = Int32(index)
      present |= key.bit
      if key.isEnvelope {
        envelopeOrder |= UInt32(key.rawValue + 1) << shift
        shift += 3
      }
    }
  }

  func has(_ key: FieldKey) -> Bool {
    present & key.bit != 0
  }

  /// The value of field `key`, marked read; `nil` when there is none.
  mutating func take(_ key: FieldKey) -> JSONFlatObject.Value? {
    guard present & key.bit != 0 else { return nil }
    taken |= key.bit
    return object.members[Int(places[key.rawValue])].value
  }

  /// The bytes of string field `key` (refused when it is another value, or holds a NUL).
  mutating func stringBytes(_ key: FieldKey) throws(EventFormatError) -> JSONStringBytes? {
    guard let value = take(key) else { return nil }
    guard case .string(let string) = value else {
      throw EventFormatError("field '\(key.name)' must be a string, found \(EventCodec.describe(value))")
    }
    // Only an escape can put a NUL in a string.
    if string.escaped && object.withBytes(string, { !$0.isEmpty && memchr($0.baseAddress!, 0, $0.count) != nil }) {
      throw EventFormatError("field '\(key.name)' contains a NUL character")
    }
    return string
  }

  mutating func string(_ key: FieldKey) throws(EventFormatError) -> String? {
    try stringBytes(key).map(object.string)
  }

  /// The identifier in field `key`, which the event's type requires when `required`.
  mutating func identifier(_ key: FieldKey, required: Bool) throws(EventFormatError) -> String? {
    guard let string = try stringBytes(key) else {
      if required { throw EventFormatError("\(type.withArticle) event needs '\(key.name)'") }
      return nil
    }
    if let problem = object.withBytes(string, Identifier.problem(withBytes:)) {
      throw EventFormatError("field '\(key.name)' \(problem)")
    }
    return object.string(string)
  }

  mutating func number(_ key: FieldKey) throws(EventFormatError) -> Double? {
    guard let value = take(key) else { return nil }
    guard case .number(let n) = value else {
      throw EventFormatError("field '\(key.name)' must be a number, found \(EventCodec.describe(value))")
    }
    return n
  }

  mutating func bool(_ key: FieldKey) throws(EventFormatError) -> Bool? {
    guard let value = take(key) else { return nil }
    guard case .bool(let b) = value else {
      throw EventFormatError("field '\(key.name)' must be true or false, found \(EventCodec.describe(value))")
    }
    return b
  }

  /// The value of field `key` as one of the names that `name` knows (`expected` says which, in
  /// the error for any other).
  mutating func name<Name>(
    _ key: FieldKey, _ name: (UnsafeBufferPointer<UInt8>) -> Name?, expected: String
  ) throws(EventFormatError) -> Name? {
    guard let string = try stringBytes(key) else { return nil }
    guard let known = object.withBytes(string, name) else {
      throw EventFormatError(
        "field '\(key.name)' must be \(expected), found '\(EventCodec.clip(object.string(string)))'")
    }
    return known
  }

  /// The entry fields, in the order of ``EntryField``, each of its JSON type; which of them
  /// an entry of `kind` may or must have is the rules' to check.
  mutating func entryContent(kind: EntryKind?) throws(EventFormatError) -> EntryContent {
    let entryFields: UInt32 = ~0 << UInt32(FieldKey.hours.rawValue)
    if present & ~taken & entryFields == 0 { return EntryContent(kind: kind) }
    return EntryContent(
      kind: kind, hours: try number(.hours), title: try string(.title), text: try string(.text),
      visibility: try name(.visibility, EventCodec.visibilities.value, expected: "'public' or 'internal'"),
      attachmentType: try name(
        .attachmentType, EventCodec.attachmentTypes.value, expected: "file, url, file-link or folder-link"),
      name: try string(.name), uri: try string(.uri), amount: try number(.amount), billable: try bool(.billable))
  }

  /// Refuses any field left unread (the first by key, so that the error is always the same).
  func finish() throws(EventFormatError) {
    guard hasUnknown || present & ~taken != 0 else { return }
    var unread: [String] = []
    for index in object.members.indices {
      let member = object.members[index]
      if let key = object.withBytes(member.key, FieldKey.keys.value), present & key.bit != 0,
        places[key.rawValue] == Int32(index), taken & key.bit != 0
      {
        continue
      }
      unread.append(object.string(member.key))
    }
    guard let key = unread.min() else { return }
    throw EventFormatError("unknown field '\(EventCodec.clip(key))' for \(type.withArticle) event")
  }
}
