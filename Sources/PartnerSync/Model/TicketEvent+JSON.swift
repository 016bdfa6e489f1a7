#if canImport(Glibc)
  import Glibc  // memcmp, memchr
#else
  import Darwin
#endif

extension TicketEvent {
  /// The event as one line of the import format (JSON Lines, without the line break): `type`,
  /// `ticket`, `by`, `at` when the event has a time, then its own fields in key order.
  ///
  /// ``PartnerSyncLog/importJSONLines(_:now:keepingDecisions:progress:)-([UInt8],_,_,_)`` reads such lines back into equal events.
  public var jsonLine: String {
    var envelope: [(key: String, value: JSONValue)] = [
      ("type", .string(type.rawValue)),
      ("ticket", .string(ticket)),
      ("by", .string(by)),
    ]
    if let at { envelope.append(("at", .string(at.rfc3339))) }
    return EventCodec.line(envelope, payload)
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
/// fields as canonical JSON in its `data` column; this one codec serves both shapes. Both are
/// parsed by `JSONParser` into an object's members, which are then read by name.
///
/// The codec checks the format only: each field has the JSON type (and, for names such as a
/// kind, one of the values) that the format gives it, identifiers have their syntax, the fields
/// an event type requires are there, and no other field is. What the values mean (bounds,
/// blank texts, the fields of each entry kind, reserved ids) is checked once, by the rules
/// (`TicketProjection.check`).
enum EventCodec {
  /// The longest event line accepted, in bytes.
  static let maximumLineLength = 1 << 20

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

  /// Decodes an event's own fields straight from the bytes of its stored `data` (a JSON
  /// object) into `payload`, or returns `false` (leaving `payload` alone) when they are not
  /// an event's fields: ``decodePayload(_:fields:)`` on the parsed object then says why.
  static func decodePayload(
    _ type: EventType, data: UnsafeBufferPointer<UInt8>, into payload: inout EventPayload
  ) -> Bool {
    guard case .object(let fields)? = try? JSONParser.parse(data),
      let decoded = try? decodePayload(type, fields: fields)
    else { return false }
    payload = decoded
    return true
  }

  /// Decodes an event type's own fields.
  static func decodePayload(
    _ type: EventType, fields members: [(key: String, value: JSONValue)]
  ) throws(EventFormatError) -> EventPayload {
    var fields = Fields(type: type, members: members)
    let payload: EventPayload
    switch type {
    case .outsourced:
      let partner = try fields.identifier("partner")
      let resource = try fields.string("resource")
      if let resource, isBlank(resource) {
        throw EventFormatError("field 'resource' must not be blank")
      }
      payload = .outsourced(Outsourcing(partner: partner, resource: resource, rate: try fields.number("rate")))
    case .cancelled: payload = .cancelled
    case .declined: payload = .declined(reason: try fields.string("reason"))
    case .accepted: payload = .accepted
    case .completionRequested: payload = .completionRequested
    case .completionRejected:
      guard let reason = try fields.string("reason") else {
        throw EventFormatError("a completion-rejected event needs a 'reason'")
      }
      payload = .completionRejected(reason: reason)
    case .completionApproved: payload = .completionApproved
    case .completed: payload = .completed
    case .entryAdded:
      let id = try fields.identifier("entry")
      guard let kindName = try fields.string("kind") else {
        throw EventFormatError("an entry-added event needs a 'kind' (time, note, attachment or charge)")
      }
      guard let kind = EntryKind(rawValue: kindName) else {
        throw EventFormatError("unknown entry kind '\(clip(kindName))' (expected time, note, attachment or charge)")
      }
      payload = .entryAdded(entry: id, content: try fields.entryContent(kind: kind))
    case .entryEdited:
      let id = try fields.identifier("entry")
      if fields.has("kind") { throw EventFormatError("an entry's 'kind' cannot be edited") }
      if fields.has("attachmentType") {
        throw EventFormatError("an attachment's 'attachmentType' cannot be edited")
      }
      payload = .entryEdited(entry: id, changes: try fields.entryContent(kind: nil))
    case .entryDeleted:
      payload = .entryDeleted(entry: try fields.identifier("entry"))
    }
    try fields.finish()
    return payload
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
  static func plainTicket(in line: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8>? {
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
  static func data(of payload: EventPayload) -> String {
    JSONWriter.string(.object(ownFields(of: payload)), sortedKeys: true)
  }

  /// The stored `data` of `payload`, as ``data(of:)`` writes it, lent to `body` as UTF-8 bytes
  /// that are valid only during `body`.
  static func withData<Result>(
    of payload: EventPayload, _ body: (UnsafeBufferPointer<UInt8>) throws -> Result
  ) rethrows -> Result {
    try JSONWriter.withEncoded(.object(ownFields(of: payload)), sortedKeys: true, body)
  }

  /// One exported line: `position`, `type`, `ticket`, `by`, `at`, then the own fields sorted.
  static func exportLine(_ recorded: RecordedEvent) -> String {
    line(
      [
        ("position", .number(Double(recorded.position))),
        ("type", .string(recorded.event.type.rawValue)),
        ("ticket", .string(recorded.event.ticket)),
        ("by", .string(recorded.event.by)),
        ("at", .string(recorded.at.rfc3339)),
      ], recorded.event.payload)
  }

  /// A line of `envelope` as it is, then the own fields of `payload` in key order.
  static func line(_ envelope: [(key: String, value: JSONValue)], _ payload: EventPayload) -> String {
    let own = ownFields(of: payload).sorted { JSONValue.utf8Less($0.key, $1.key) }
    return JSONWriter.string(.object(envelope + own), sortedKeys: false)
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
    var text = s
    if text.withUTF8({ $0.count > 0 && memchr($0.baseAddress!, 0, $0.count) != nil }) {
      throw EventFormatError("field '\(field)' contains a NUL character")
    }
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

/// Whether `text` is empty or only white space (`Character.isWhitespace`).
func isBlank(_ text: String) -> Bool {
  text.allSatisfy(\.isWhitespace)
}

/// `isBlank` of the UTF-8 text `bytes`.
func isBlank(utf8 bytes: UnsafeBufferPointer<UInt8>) -> Bool {
  isBlank(String(decoding: bytes, as: UTF8.self))
}

/// The own fields of one event, read by name and each checked for its JSON type; a field read
/// is removed, so that those left at the end are refused as unknown.
private struct Fields {
  let type: EventType
  var members: [(key: String, value: JSONValue)]

  func has(_ key: String) -> Bool {
    members.contains { JSONValue.utf8Equal($0.key, key) }
  }

  /// The value of field `key`, removed; `nil` when there is none.
  mutating func take(_ key: String) -> JSONValue? {
    guard let index = members.firstIndex(where: { JSONValue.utf8Equal($0.key, key) }) else { return nil }
    return members.remove(at: index).value
  }

  mutating func string(_ key: String) throws(EventFormatError) -> String? {
    guard let value = take(key) else { return nil }
    return try EventCodec.string(value, field: key)
  }

  /// The identifier in field `key`, which the event's type requires.
  mutating func identifier(_ key: String) throws(EventFormatError) -> String {
    guard let value = take(key) else { throw EventFormatError("\(type.withArticle) event needs '\(key)'") }
    return try EventCodec.identifier(value, field: key)
  }

  mutating func number(_ key: String) throws(EventFormatError) -> Double? {
    guard let value = take(key) else { return nil }
    guard case .number(let n) = value else {
      throw EventFormatError("field '\(key)' must be a number, found \(EventCodec.describe(value))")
    }
    return n
  }

  mutating func bool(_ key: String) throws(EventFormatError) -> Bool? {
    guard let value = take(key) else { return nil }
    guard case .bool(let b) = value else {
      throw EventFormatError("field '\(key)' must be true or false, found \(EventCodec.describe(value))")
    }
    return b
  }

  /// The value of field `key` as one of the names of `Name` that `allowed` lists (`expected`
  /// says which, in the error for any other).
  mutating func name<Name: RawRepresentable<String>>(
    _ key: String, allowed: [Name], expected: String
  ) throws(EventFormatError) -> Name? {
    guard let text = try string(key) else { return nil }
    guard let name = Name(rawValue: text), allowed.contains(where: { $0.rawValue == name.rawValue }) else {
      throw EventFormatError("field '\(key)' must be \(expected), found '\(EventCodec.clip(text))'")
    }
    return name
  }

  /// The entry fields, in the order of ``EntryField``, each of its JSON type; which of them
  /// an entry of `kind` may or must have is the rules' to check.
  mutating func entryContent(kind: EntryKind?) throws(EventFormatError) -> EntryContent {
    if members.isEmpty { return EntryContent(kind: kind) }
    return EntryContent(
      kind: kind, hours: try number("hours"), title: try string("title"), text: try string("text"),
      visibility: try name("visibility", allowed: [Visibility.public, .internal], expected: "'public' or 'internal'"),
      attachmentType: try name(
        "attachmentType", allowed: AttachmentType.allCases, expected: "file, url, file-link or folder-link"),
      name: try string("name"), uri: try string("uri"), amount: try number("amount"), billable: try bool("billable"))
  }

  /// Refuses any field left unread (the first by key, so that the error is always the same).
  func finish() throws(EventFormatError) {
    guard let key = members.map(\.key).min() else { return }
    throw EventFormatError("unknown field '\(EventCodec.clip(key))' for \(type.withArticle) event")
  }
}
