extension TicketEvent {
  /// The event as one line of the import format (JSON Lines, without the line break): `type`,
  /// `ticket`, `by`, `at` when the event has a time, then its own fields in key order.
  ///
  /// ``PartnerSyncLog/importJSONLines(_:now:keepingDecisions:progress:)-([UInt8],_,_,_)`` reads such lines back into equal events.
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
    return try decodePayload(type, reader: &reader)
  }

  /// Decodes an event's own fields straight from the bytes of its `data` (a JSON object), or
  /// returns `nil` when that takes the full parser: then ``decodePayload(_:fields:)`` on the
  /// parsed object decides, with the same outcome for every input this accepts.
  static func decodePayload(_ type: EventType, data: UnsafeBufferPointer<UInt8>) -> EventPayload? {
    var payload = EventPayload.accepted
    return decodePayload(type, data: data, into: &payload) ? payload : nil
  }

  /// ``decodePayload(_:data:)`` into `payload`, which is left alone when it returns `false`: the
  /// payload is moved into place, where an optional result would be copied out of its optional
  /// (through generic code, about 200 instructions an event).
  static func decodePayload(
    _ type: EventType, data: UnsafeBufferPointer<UInt8>, into payload: inout EventPayload
  ) -> Bool {
    JSONObjectSpans.scan(data) { spans in
      var reader = FieldReader(type: type, fields: spans)
      guard let decoded = try? decodePayload(type, reader: &reader) else { return false }
      payload = decoded
      return true
    } ?? false
  }

  /// Decodes one event line straight from its bytes, or returns `nil` when that takes the full
  /// parser: then ``decode(line:)`` on the parsed line decides, with the same outcome for every
  /// line this accepts.
  static func decode(line bytes: UnsafeBufferPointer<UInt8>) -> TicketEvent? {
    JSONObjectSpans.scan(bytes) { spans in
      var reader = FieldReader(type: .cancelled, fields: spans)
      return try? decodeEvent(&reader)
    }
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
    guard let base = line.baseAddress else { return nil }
    let count = line.count
    let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")
    func skipSpace(_ position: inout Int) {
      while position < count,
        base[position] == 0x20 || base[position] == 0x09 || base[position] == 0x0D
          || base[position] == 0x0A
      {
        position += 1
      }
    }
    var position = -1
    while true {
      position += 1
      while position < count, base[position] != quote { position += 1 }
      guard position + 8 <= count else { return nil }
      guard position == 0 || base[position - 1] != backslash,
        memoryEqual(base + position, StaticString("\"ticket\"").utf8Start, count: 8)
      else { continue }
      var next = position + 8
      skipSpace(&next)
      guard next < count, base[next] == UInt8(ascii: ":") else { continue }
      next += 1
      skipSpace(&next)
      guard next < count, base[next] == quote else { return nil }
      let valueStart = next + 1
      var end = valueStart
      while end < count, base[end] != quote {
        if base[end] == backslash { return nil }
        end += 1
      }
      guard end < count else { return nil }
      return UnsafeBufferPointer(start: base + valueStart, count: end - valueStart)
    }
  }

  /// The envelope, then the own fields, of one line; `nil` when the line is refused (the caller
  /// then asks the full parser why).
  private static func decodeEvent<Fields: EventFields>(
    _ reader: inout FieldReader<Fields>
  ) throws(EventFormatError) -> TicketEvent? {
    // `type` and `at` are read from their bytes (a plain string, so no NUL to refuse): the same
    // outcome as `string` and `timestamp` on their values, without making strings.
    guard let typeName = reader.takePlainString(.type), let type = EventType(utf8: typeName),
      let ticket = try reader.identifier(.ticket, required: false),
      let by = try reader.identifier(.by, required: false)
    else { return nil }
    var at: Timestamp?
    if reader.has(.at) {
      guard let text = reader.takePlainString(.at), case .success(let time) = Timestamp.parse(utf8: text) else {
        return nil
      }
      at = time
    }
    if let position = try reader.take(.position) {
      guard case .number = position else { return nil }
    }
    reader.type = type
    let payload = try decodePayload(type, reader: &reader)
    return TicketEvent(ticket: ticket, by: by, at: at, payload)
  }

  private static func decodePayload<Fields: EventFields>(
    _ type: EventType, reader: inout FieldReader<Fields>
  ) throws(EventFormatError) -> EventPayload {
    let payload: EventPayload
    switch type {
    case .outsourced:
      let partner = try reader.identifier(.partner, required: true)!
      let resource = try reader.text(.resource)
      if let resource, isBlank(resource) {
        throw EventFormatError("field 'resource' must not be blank")
      }
      // Its bounds (like those of every number) are the rules' to check (`NumberField`).
      let rate = try reader.number(.rate)
      payload = .outsourced(Outsourcing(partner: partner, resource: resource, rate: rate))
    case .cancelled: payload = .cancelled
    case .declined: payload = .declined(reason: try reader.text(.reason))
    case .accepted: payload = .accepted
    case .completionRequested: payload = .completionRequested
    case .completionRejected:
      guard let reason = try reader.text(.reason) else {
        throw EventFormatError("a completion-rejected event needs a 'reason'")
      }
      if isBlank(reason) {
        throw EventFormatError("field 'reason' must not be blank")
      }
      payload = .completionRejected(reason: reason)
    case .completionApproved: payload = .completionApproved
    case .completed: payload = .completed
    case .entryAdded:
      let id = try reader.identifier(.entry, required: true)!
      if Identifier.bundleNumber(id) != nil {
        throw EventFormatError("entry id '\(id)' is reserved for completion bundles (bundle-<n>)")
      }
      let kind: EntryKind
      switch try reader.named(.kind, as: EntryKind.self) {
      case nil:
        throw EventFormatError("an entry-added event needs a 'kind' (time, note, attachment or charge)")
      case .unknown(let name):
        throw EventFormatError("unknown entry kind '\(clip(name))' (expected time, note, attachment or charge)")
      case .known(let known): kind = known
      }
      let content = try reader.entryContent(kind: kind)
      for field in kind.requiredFields where !content.has(field) {
        throw EventFormatError("\(kind.withArticle) entry needs '\(field.rawValue)'")
      }
      payload = .entryAdded(entry: id, content: content)
    case .entryEdited:
      let id = try reader.identifier(.entry, required: true)!
      if reader.has(.kind) { throw EventFormatError("an entry's 'kind' cannot be edited") }
      if reader.has(.attachmentType) {
        throw EventFormatError("an attachment's 'attachmentType' cannot be edited")
      }
      let changes = try reader.entryContent(kind: nil)
      if changes.isEmpty {
        throw EventFormatError("an entry-edited event needs at least one field to change")
      }
      payload = .entryEdited(entry: id, changes: changes)
    case .entryDeleted:
      payload = .entryDeleted(entry: try reader.identifier(.entry, required: true)!)
    }
    try reader.finish()
    return payload
  }

  // MARK: Writing

  /// The event's own fields as canonical JSON (sorted keys), as stored in the log's `data` column.
  ///
  /// The same bytes as `JSONWriter.string(.object(ownFields(of: payload)), sortedKeys: true)`,
  /// written directly: every key an event can have, in byte order, is `amount`,
  /// `attachmentType`, `billable`, `entry`, `hours`, `kind`, `name`, `partner`, `rate`,
  /// `reason`, `resource`, `text`, `title`, `uri`, `visibility`.
  static func data(of payload: EventPayload) -> String {
    withData(of: payload) { String(decoding: $0, as: UTF8.self) }
  }

  /// The stored `data` of `payload`, as ``data(of:)`` writes it, lent to `body` as UTF-8 bytes
  /// that are valid only during `body`.
  static func withData<Result>(
    of payload: EventPayload, _ body: (UnsafeBufferPointer<UInt8>) throws -> Result
  ) rethrows -> Result {
    try JSONWriter.object(
      { members in
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
          writeFields(of: content, entry: id, kind: true, into: &members)
        case .entryEdited(let id, let changes):
          writeFields(of: changes, entry: id, kind: false, into: &members)
        case .entryDeleted(let id):
          members.string("entry", id)
        }
      }, body)
  }

  /// `entry` and the present fields of `content` (with its kind when `kind`), in key order.
  private static func writeFields(
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
    var bytes = s
    if bytes.withUTF8(containsNUL) {
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

/// Every key an event line or an event's data can have.
enum FieldKey: UInt8 {
  case type, ticket, by, at, position
  case partner, resource, rate, reason, entry, kind
  // The entry fields' keys: last, in the order of `EntryField` (see `entryField`).
  case hours, title, text, visibility, attachmentType, name, uri, amount, billable

  /// The key as written.
  var name: String {
    switch self {
    case .type: "type"
    case .ticket: "ticket"
    case .by: "by"
    case .at: "at"
    case .position: "position"
    case .partner: "partner"
    case .resource: "resource"
    case .rate: "rate"
    case .reason: "reason"
    case .entry: "entry"
    case .kind: "kind"
    case .hours: "hours"
    case .title: "title"
    case .text: "text"
    case .visibility: "visibility"
    case .attachmentType: "attachmentType"
    case .name: "name"
    case .uri: "uri"
    case .amount: "amount"
    case .billable: "billable"
    }
  }

  /// The entry field this key names, if it names one. (The keys of the entry fields are
  /// declared last, in the order of ``EntryField``: `hours` … `billable`.)
  var entryField: EntryField? {
    rawValue >= FieldKey.hours.rawValue ? EntryField.every[Int(rawValue - FieldKey.hours.rawValue)] : nil
  }

  /// The raw value of the key that names entry field `field`.
  static func rawValue(of field: EntryField) -> UInt8 {
    FieldKey.hours.rawValue &+ UInt8(truncatingIfNeeded: field.ordinal)
  }

  /// The key whose text is the UTF-8 `bytes`, or `nil` for any other key.
  init?(utf8 bytes: UnsafeBufferPointer<UInt8>) {
    guard let first = bytes.first else { return nil }
    let candidate: (FieldKey, StaticString)
    switch (bytes.count, first) {
    case (2, UInt8(ascii: "b")): candidate = (.by, "by")
    case (2, UInt8(ascii: "a")): candidate = (.at, "at")
    case (3, _): candidate = (.uri, "uri")
    case (4, UInt8(ascii: "t")): candidate = bytes[1] == UInt8(ascii: "y") ? (.type, "type") : (.text, "text")
    case (4, UInt8(ascii: "k")): candidate = (.kind, "kind")
    case (4, UInt8(ascii: "n")): candidate = (.name, "name")
    case (4, UInt8(ascii: "r")): candidate = (.rate, "rate")
    case (5, UInt8(ascii: "e")): candidate = (.entry, "entry")
    case (5, UInt8(ascii: "h")): candidate = (.hours, "hours")
    case (5, UInt8(ascii: "t")): candidate = (.title, "title")
    case (6, UInt8(ascii: "t")): candidate = (.ticket, "ticket")
    case (6, UInt8(ascii: "r")): candidate = (.reason, "reason")
    case (6, UInt8(ascii: "a")): candidate = (.amount, "amount")
    case (7, _): candidate = (.partner, "partner")
    case (8, UInt8(ascii: "p")): candidate = (.position, "position")
    case (8, UInt8(ascii: "r")): candidate = (.resource, "resource")
    case (8, UInt8(ascii: "b")): candidate = (.billable, "billable")
    case (10, _): candidate = (.visibility, "visibility")
    case (14, _): candidate = (.attachmentType, "attachmentType")
    default: return nil
    }
    guard bytesEqual(bytes, candidate.1) else { return nil }
    self = candidate.0
  }
}

/// The members of an event's JSON object, wherever they come from: parsed into `JSONValue`s, or
/// found in place by `JSONObjectSpans`.
protocol EventFields {
  /// How many members there are.
  var count: Int { get }
  /// The known key that member `index` has, if it is one.
  func fieldKey(at index: Int) -> FieldKey?
  /// Member `index`'s key.
  func keyText(at index: Int) -> String
  /// Member `index`'s value, or `nil` when it turns out not to be valid JSON.
  func value(at index: Int) -> JSONValue?
  /// The UTF-8 bytes of member `index`'s value when it is a string without escapes, control
  /// characters or NUL, readable without making a `String`; otherwise `nil`.
  func plainString(at index: Int) -> UnsafeBufferPointer<UInt8>?
}

extension Array: EventFields where Element == (key: String, value: JSONValue) {
  func fieldKey(at index: Int) -> FieldKey? {
    self[index].key.withUTF8Bytes { FieldKey(utf8: $0) }
  }
  func keyText(at index: Int) -> String { self[index].key }
  func value(at index: Int) -> JSONValue? { self[index].value }
  func plainString(at index: Int) -> UnsafeBufferPointer<UInt8>? { nil }
}

extension JSONObjectSpans: EventFields {
  func fieldKey(at index: Int) -> FieldKey? { FieldKey(rawValue: members[index].field) }
  func keyText(at index: Int) -> String { String(decoding: key(at: index), as: UTF8.self) }
}

/// Whether `bytes` contains a zero byte, looking at 8 bytes at a time.
func containsNUL(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
  guard let base = bytes.baseAddress else { return false }
  var i = 0
  while i &+ 8 <= bytes.count {
    let word = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
    if (word &- 0x0101_0101_0101_0101) & ~word & 0x8080_8080_8080_8080 != 0 { return true }
    i &+= 8
  }
  while i < bytes.count {
    if base[i] == 0 { return true }
    i &+= 1
  }
  return false
}

/// Whether `text` is empty or only white space (`Character.isWhitespace`), looking at bytes when
/// it is ASCII.
func isBlank(_ text: String) -> Bool {
  text.withUTF8Bytes { isBlank(utf8: $0) }
}

/// `isBlank` of the UTF-8 text `bytes`.
func isBlank(utf8 bytes: UnsafeBufferPointer<UInt8>) -> Bool {
  for byte in bytes {
    if byte >= 0x80 { return String(decoding: bytes, as: UTF8.self).allSatisfy(\.isWhitespace) }
    if !(byte == 0x20 || (byte >= 0x09 && byte <= 0x0D)) { return false }
  }
  return true
}

/// A field's value read as one of the names of `Name`.
enum NameRead<Name: NamedByRawValue> {
  /// It is this name.
  case known(Name)
  /// It is no name of `Name`: this text.
  case unknown(String)

  /// The text read.
  var text: String {
    switch self {
    case .known(let name): name.rawValue
    case .unknown(let text): text
    }
  }
}

/// Reads the own fields of one event, remembering which were used so that unknown ones are refused.
///
/// An event has a handful of fields: each member's key is recognised once (by the scan that
/// found it, for members found in place), into a small table from key to member (no dictionary
/// to build per event); the fields taken are marked in a bit set.
private struct FieldReader<Fields: EventFields> {
  var type: EventType
  let fields: Fields
  /// By known key: the member that has it, or -1; used when `hasPlaces` (each known key on one
  /// member at most, among the first 32), so that finding a field is one load, not a scan.
  /// Otherwise (a wide parsed object, or one with a repeated key) fields are found by a scan.
  private var places = SIMD32<Int8>(repeating: -1)
  private var hasPlaces = true
  /// Bit `i` is set when field `i` (of the first 64) was taken.
  private var taken: UInt64 = 0
  /// Whether fields 64 and after were taken.
  private var takenBeyond: [Bool]

  init(type: EventType, fields: Fields) {
    self.type = type
    self.fields = fields
    takenBeyond = fields.count > 64 ? Array(repeating: false, count: fields.count - 64) : []
    hasPlaces = fields.count <= 32
    guard hasPlaces else { return }
    for index in 0..<fields.count {
      guard let key = fields.fieldKey(at: index)?.rawValue else { continue }
      if places[Int(key)] >= 0 {
        hasPlaces = false
        return
      }
      places[Int(key)] = Int8(index)
    }
  }

  private func isTaken(_ index: Int) -> Bool {
    index < 64 ? taken & (1 << UInt64(index)) != 0 : takenBeyond[index - 64]
  }

  private func key(at index: Int) -> UInt8 {
    fields.fieldKey(at: index)?.rawValue ?? JSONObjectSpans.unknownKey
  }

  private func index(of key: FieldKey) -> Int? {
    if hasPlaces {
      let index = Int(places[Int(key.rawValue)])
      return index >= 0 && taken & (1 << UInt64(index)) == 0 ? index : nil
    }
    for index in 0..<fields.count where self.key(at: index) == key.rawValue && !isTaken(index) {
      return index
    }
    return nil
  }

  func has(_ key: FieldKey) -> Bool { index(of: key) != nil }

  mutating func take(_ key: FieldKey) throws(EventFormatError) -> JSONValue? {
    guard let index = index(of: key) else { return nil }
    return try take(at: index, key: key.name)
  }

  /// The bytes of field `key` when it is a plain string (see ``EventFields/plainString(at:)``),
  /// marking it read; `nil` (and nothing read) otherwise.
  mutating func takePlainString(_ key: FieldKey) -> UnsafeBufferPointer<UInt8>? {
    guard let index = index(of: key), let bytes = fields.plainString(at: index) else { return nil }
    if index < 64 {
      taken |= 1 << UInt64(index)
    } else {
      takenBeyond[index - 64] = true
    }
    return bytes
  }

  mutating func text(_ key: FieldKey) throws(EventFormatError) -> String? {
    guard let index = index(of: key) else { return nil }
    return try text(at: index, key: key.name)
  }

  /// The string value of member `index`, marking it read. A plain string (no escapes, so no NUL)
  /// is made straight from its bytes; anything else is checked as `EventCodec.string` does.
  private mutating func text(at index: Int, key: String) throws(EventFormatError) -> String {
    if let bytes = fields.plainString(at: index) {
      markTaken(index)
      return String(decoding: bytes, as: UTF8.self)
    }
    return try text(take(at: index, key: key), key: key)
  }

  private mutating func markTaken(_ index: Int) {
    if index < 64 {
      taken |= 1 << UInt64(index)
    } else {
      takenBeyond[index - 64] = true
    }
  }

  func text(_ value: JSONValue, key: String) throws(EventFormatError) -> String {
    try EventCodec.string(value, field: key)
  }

  /// The value of field `key` read as a name of `Name`: `nil` when there is no such field.
  mutating func named<Name: NamedByRawValue>(
    _ key: FieldKey, as type: Name.Type
  ) throws(EventFormatError) -> NameRead<Name>? {
    guard let index = index(of: key) else { return nil }
    return try named(at: index, key: key.name, as: type)
  }

  /// Member `index`'s value read as a name of `Name`, marking it read; a plain string is
  /// recognised from its bytes, without making a string unless it is no such name.
  private mutating func named<Name: NamedByRawValue>(
    at index: Int, key: String, as type: Name.Type
  ) throws(EventFormatError) -> NameRead<Name> {
    if let bytes = fields.plainString(at: index), let name = Name(utf8: bytes) {
      markTaken(index)
      return .known(name)
    }
    let text = try text(at: index, key: key)
    return Name.named(text).map { .known($0) } ?? .unknown(text)
  }

  mutating func identifier(_ key: FieldKey, required: Bool) throws(EventFormatError) -> String? {
    guard let index = index(of: key) else {
      if required { throw EventFormatError("\(type.withArticle) event needs '\(key.name)'") }
      return nil
    }
    if let bytes = fields.plainString(at: index) {
      markTaken(index)
      if let problem = Identifier.problem(withBytes: bytes) {
        throw EventFormatError("field '\(key.name)' \(problem)")
      }
      return String(decoding: bytes, as: UTF8.self)
    }
    return try EventCodec.identifier(take(at: index, key: key.name), field: key.name)
  }

  mutating func number(_ key: FieldKey) throws(EventFormatError) -> Double? {
    guard let value = try take(key) else { return nil }
    return try number(value, key: key.name)
  }

  func number(_ value: JSONValue, key: String) throws(EventFormatError) -> Double {
    guard case .number(let n) = value, n.isFinite else {
      throw EventFormatError("field '\(key)' must be a number, found \(EventCodec.describe(value))")
    }
    return n
  }

  func bool(_ value: JSONValue, key: String) throws(EventFormatError) -> Bool {
    guard case .bool(let b) = value else {
      throw EventFormatError(
        "field '\(key)' must be true or false, found \(EventCodec.describe(value))")
    }
    return b
  }

  /// Reads the entry fields: those of `kind` for a new entry, any for an edit (`kind` nil); a
  /// known entry field outside them is named as not belonging to `kind`.
  mutating func entryContent(kind: EntryKind?) throws(EventFormatError) -> EntryContent {
    // A new entry may have the fields of its kind; an edit (no kind) any field.
    let allowed = kind?.fields ?? EntryField.allCases
    var content = EntryContent(kind: kind)
    // One pass over the members finds the entry fields; they are then read in the order of
    // `EntryField`, so that the first problem reported is always the same.
    var indices = SIMD16<Int32>(repeating: -1)
    // The entry fields present, by ordinal.
    var present: UInt16 = 0
    if hasPlaces {
      // Each key at most once: the members' keys say which entry fields there are (a handful of
      // members, where there are nine entry fields to look for).
      let first = FieldKey.hours.rawValue
      for index in 0..<fields.count where !isTaken(index) {
        let key = self.key(at: index)
        if key >= first && key != JSONObjectSpans.unknownKey {
          // The entry fields' keys are in the order of `EntryField`, whose bits are 1 << ordinal.
          let ordinal = Int(key &- first)
          indices[ordinal] = Int32(index)
          present |= 1 << UInt16(ordinal)
        }
      }
    } else {
      for index in 0..<fields.count where !isTaken(index) {
        if let field = FieldKey(rawValue: key(at: index))?.entryField {
          indices[field.ordinal] = Int32(index)
          present |= 1 << UInt16(field.ordinal)
        }
      }
    }
    while present != 0 {
      let field = EntryField.every[present.trailingZeroBitCount]
      present &= present &- 1
      guard allowed.contains(field) else {
        let kindName = kind.map { "\($0.withArticle) entry" } ?? "this entry"
        throw EventFormatError(
          "field '\(field.rawValue)' does not belong to \(kindName) (its fields: "
            + allowed.map(\.rawValue).joined(separator: ", ") + ")")
      }
      let key = field.rawValue
      let index = Int(indices[field.ordinal])
      switch field {
      case .hours:
        // Its bounds (like those of every number) are the rules' to check (`NumberField`).
        content.hours = try number(take(at: index, key: key), key: key)
      case .title: content.title = try textSource(at: index, key: key)
      case .text: content.text = try textSource(at: index, key: key)
      case .name:
        let name = try textSource(at: index, key: key)
        if isBlank(name) { throw EventFormatError("field 'name' must not be blank") }
        content.name = name
      case .uri: content.uri = try textSource(at: index, key: key)
      case .amount: content.amount = try number(take(at: index, key: key), key: key)
      case .billable: content.billable = try bool(take(at: index, key: key), key: key)
      case .visibility:
        let read = try named(at: index, key: key, as: Visibility.self)
        guard case .known(let v) = read, v != .internalUsersOnly else {
          throw EventFormatError(
            "field 'visibility' must be 'public' or 'internal', found '\(EventCodec.clip(read.text))'")
        }
        content.visibility = v
      case .attachmentType:
        let read = try named(at: index, key: key, as: AttachmentType.self)
        guard case .known(let t) = read else {
          throw EventFormatError(
            "field 'attachmentType' must be file, url, file-link or folder-link, found '\(EventCodec.clip(read.text))'"
          )
        }
        content.attachmentType = t
      }
    }
    return content
  }

  /// The string value of member `index`, marking it read: a plain string's bytes as they are,
  /// anything else checked as `EventCodec.string` does.
  private mutating func textSource(at index: Int, key: String) throws(EventFormatError) -> String {
    if let bytes = fields.plainString(at: index) {
      markTaken(index)
      return String(decoding: bytes, as: UTF8.self)
    }
    return try text(take(at: index, key: key), key: key)
  }

  /// Marks member `index` as read and returns its value.
  private mutating func take(at index: Int, key: String) throws(EventFormatError) -> JSONValue {
    markTaken(index)
    guard let value = fields.value(at: index) else { throw EventFormatError("field '\(key)' is not valid JSON") }
    return value
  }

  /// Refuses any field left unread.
  func finish() throws(EventFormatError) {
    if fields.count < 64 && taken == (1 << UInt64(fields.count)) &- 1 { return }
    var unread: String?
    for index in 0..<fields.count where !isTaken(index) {
      let key = fields.keyText(at: index)
      if let least = unread, !(key < least) { continue }
      unread = key
    }
    guard let key = unread else { return }
    throw EventFormatError("unknown field '\(EventCodec.clip(key))' for \(type.withArticle) event")
  }
}
