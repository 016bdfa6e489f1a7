// A libFuzzer target over the pure part of PartnerSync: the JSON codec, the event format, the rules
// and the projections. It is not part of any SwiftPM target: `Scripts/fuzz` builds it against the
// PartnerSyncDomain module, instrumented.
//
// Each input is a JSON Lines document. Every line is parsed and decoded; every event the rules
// accept is applied to its ticket's projection, exactly as `import` validates a batch. On the way
// the target traps (a finding) when any of these does not hold:
//
// - the writer round-trips any parsed value: parse(write(v)) == v, and writing it again gives the
//   same bytes (canonical output);
// - the ticket that an import's first pass reads from a line's bytes (`EventCodec.plainTicket`),
//   when it reads one, is the ticket the parser decodes;
// - an accepted event's stored form (`EventCodec.data`) decodes to the same payload, and its
//   exported line (`EventCodec.exportLine`) decodes to the same event at the same time;
// - a refused event leaves its projection unchanged (position, version, decisions, views);
// - replaying the exported lines of a ticket into a fresh projection gives the same views,
//   decisions and notifications.

@testable import PartnerSyncDomain

/// The time given to events without `at` (2026-03-02T09:00:00Z).
private let defaultTime = Timestamp(microseconds: 1_772_442_000_000_000)

/// libFuzzer's entry point: checks one input, trapping on any finding; always returns 0.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = UnsafeBufferPointer(start: data, count: size)
  var projections: [String: TicketProjection] = [:]
  var exported: [String: [String]] = [:]
  var position: Int64 = 0
  var start = 0
  while start < bytes.count {
    var end = start
    while end < bytes.count, bytes[end] != 0x0A { end += 1 }
    defer { start = end + 1 }
    let line = UnsafeBufferPointer(rebasing: bytes[start..<end])
    checkFlatObject(line)
    guard let value = try? JSONParser.parse(line) else { continue }
    checkWriterRoundTrip(value)
    guard let event = try? EventCodec.decode(line: line) else { continue }
    if let ticket = EventCodec.plainTicket(in: line) {
      require(
        ticket.elementsEqual(event.ticket.utf8),
        "the import's first pass reads another ticket than the parser: \(String(decoding: line, as: UTF8.self))")
    }
    var projection = projections[event.ticket] ?? TicketProjection(ticket: event.ticket)
    var stamped = event
    stamped.at = event.at ?? defaultTime
    let recorded = RecordedEvent(
      position: position + 1, version: projection.version + 1, at: stamped.at!, event: stamped)
    let before = Observed(projection)
    do {
      try projection.apply(recorded)
    } catch {
      require(Observed(projection) == before, "a refused event changed the projection")
      continue
    }
    position += 1
    projections[event.ticket] = projection
    exported[event.ticket, default: []].append(checkEventRoundTrip(recorded))
  }
  for (ticket, projection) in projections {
    checkReplay(ticket: ticket, lines: exported[ticket] ?? [], against: projection)
  }
  return 0
}

/// Traps with `message` when `condition` is false: libFuzzer reports the input as a crash.
private func require(_ condition: Bool, _ message: @autoclosure () -> String) {
  if !condition { fatalError(message()) }
}

/// The parser reads an object in place exactly as it reads it into a value: the same error, or
/// the same members.
private func checkFlatObject(_ bytes: UnsafeBufferPointer<UInt8>) {
  let tree = Result { () throws(JSONParseError) in summary(try JSONParser.parse(bytes)) }
  let flat = Result { () throws(JSONParseError) in try JSONParser.withFlatObject(bytes, summary) }
  require(tree == flat, "the two readings differ: \(String(decoding: bytes, as: UTF8.self))")
}

/// A value's members (key, then value) when it is an object, else its kind.
private func summary(_ value: JSONValue) -> [String] {
  func scalar(_ value: JSONValue) -> String {
    switch value {
    case .string(let text): "string \(text)"
    case .object: "object"
    case .array: "array"
    default: JSONWriter.string(value)
    }
  }
  guard case .object(let members) = value else { return [EventCodec.describe(.init(kindOf: value))] }
  return members.flatMap { [$0.key, scalar($0.value)] }
}

/// ``summary(_:)`` of a value read in place.
private func summary(_ read: JSONFlatRead) -> [String] {
  guard case .object(let object) = read else {
    guard case .notAnObject(let kind) = read else { return [] }
    return [EventCodec.describe(kind)]
  }
  return object.members.flatMap { member -> [String] in
    let value: String
    switch member.value {
    case .string(let string): value = "string \(object.string(string))"
    case .object: value = "object"
    case .array: value = "array"
    case .null: value = "null"
    case .bool(let b): value = JSONWriter.string(.bool(b))
    case .number(let n): value = JSONWriter.string(.number(n))
    }
    return [object.string(member.key), value]
  }
}

private func checkWriterRoundTrip(_ value: JSONValue) {
  for sorted in [true, false] {
    let text = JSONWriter.string(value, sortedKeys: sorted)
    guard let again = try? JSONParser.parse(text) else {
      fatalError("the writer produced JSON the parser refuses: \(text)")
    }
    require(again == value, "the writer changed a value: \(text)")
    require(JSONWriter.string(again, sortedKeys: sorted) == text, "the writer is not canonical: \(text)")
  }
}

/// Checks the stored and exported forms of an accepted event; returns its export line.
private func checkEventRoundTrip(_ recorded: RecordedEvent) -> String {
  let event = recorded.event
  let stored = EventCodec.data(of: event.payload)
  guard
    let payload = try? Array(stored.utf8).withUnsafeBufferPointer({ try EventCodec.decodePayload(event.type, data: $0) }
    )
  else {
    fatalError("the stored form of an accepted event cannot be read back: \(stored)")
  }
  require(payload == event.payload, "the stored form changed the payload: \(stored)")
  let line = EventCodec.exportLine(recorded)
  guard let decoded = decodeLine(line) else {
    fatalError("the export line of an accepted event cannot be imported: \(line)")
  }
  require(decoded.payload == event.payload, "the export line changed the payload: \(line)")
  require(decoded.ticket == event.ticket && decoded.by == event.by, "the export line changed the envelope: \(line)")
  require(decoded.at == recorded.at, "the export line changed the time: \(line)")
  return line
}

/// The event that `line` holds, or `nil`.
private func decodeLine(_ line: String) -> TicketEvent? {
  try? Array(line.utf8).withUnsafeBufferPointer { try EventCodec.decode(line: $0) }
}

/// Re-imports a ticket's export lines into a fresh projection and compares it with the original.
private func checkReplay(ticket: String, lines: [String], against original: TicketProjection) {
  var replayed = TicketProjection(ticket: ticket)
  for (index, line) in lines.enumerated() {
    guard let event = decodeLine(line), let at = event.at else {
      fatalError("an export line cannot be re-imported: \(line)")
    }
    // Positions differ from the original's (other tickets interleaved there), so decisions are
    // compared by rule and outcome, views by their entries.
    let recorded = RecordedEvent(position: Int64(index + 1), version: Int64(index + 1), at: at, event: event)
    do {
      try replayed.apply(recorded)
    } catch {
      fatalError("replay refused an exported event (\(error.reason)): \(line)")
    }
  }
  require(Observed(replayed).views == Observed(original).views, "replay gave other views for \(ticket)")
  require(
    replayed.decisions.map(\.rule) == original.decisions.map(\.rule)
      && replayed.decisions.map(\.outcome) == original.decisions.map(\.outcome)
      && replayed.notifications.count == original.notifications.count,
    "replay gave other decisions or notifications for \(ticket)")
}

/// What can be observed of a projection, compared before and after a refused event.
private struct Observed: Equatable {
  var position: Int64
  var version: Int64
  var decisions: [SyncDecision]
  var notifications: Int
  var views: [[ViewEntry]]

  init(_ projection: TicketProjection) {
    position = projection.position
    version = projection.version
    decisions = projection.decisions
    notifications = projection.notifications.count
    views = []
    if let lead = projection.lead, let view = try? projection.view(of: lead) {
      views.append(view.entries)
    }
    for engagement in projection.engagements {
      if let view = try? projection.view(of: engagement.partner, engagement: engagement.number) {
        views.append(view.entries)
      }
    }
  }
}
