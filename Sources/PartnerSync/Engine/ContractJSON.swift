// The JSON shapes of the contract (`view`, `audit`, `notifications`), built in one place so that
// the command line and embedding programs print the same documents.

extension JSONValue {
  /// The value as compact JSON text; object members keep their order.
  public var jsonText: String { JSONWriter.string(self, sortedKeys: false) }
}

extension TicketView {
  /// The view as the contract's JSON object.
  public var json: JSONValue {
    .object([
      ("ticket", .string(ticket)),
      ("partner", .string(partner)),
      ("role", .string(role.rawValue)),
      ("engagement", engagement.map { .number(Double($0)) } ?? .null),
      ("status", .string(status?.rawValue ?? "none")),
      ("position", .number(Double(position))),
      ("entries", .array(entries.map(\.json))),
    ])
  }
}

extension ViewEntry {
  /// The entry as the contract's JSON object: fields that do not apply are absent.
  public var json: JSONValue {
    var members: [(key: String, value: JSONValue)] = [
      ("id", .string(id)),
      ("kind", .string(content.kind?.rawValue ?? "note")),
      ("owner", .string(owner)),
      ("origin", .string(isCopy ? "copy" : "own")),
      ("severed", .bool(severed)),
    ]
    if let v = content.visibility { members.append(("visibility", .string(v.rawValue))) }
    if let v = convertedFrom { members.append(("convertedFrom", .string(v.rawValue))) }
    if system { members.append(("system", .bool(true))) }
    members += EventCodec.fields(of: content).filter { $0.key != "visibility" }
    return .object(members)
  }
}

extension SyncDecision {
  /// The decision as the contract's JSON object.
  public var json: JSONValue {
    var members: [(key: String, value: JSONValue)] = [
      ("position", .number(Double(position))),
      ("event", .string(event.rawValue)),
      ("entry", .string(entry)),
      ("by", .string(by)),
      ("to", .string(to)),
      ("outcome", .string(outcome.rawValue)),
      ("rule", .string(rule.rawValue)),
    ]
    if !transforms.isEmpty { members.append(("transforms", .array(transforms.map { .string($0.rawValue) }))) }
    if let heldAt { members.append(("heldAt", .number(Double(heldAt)))) }
    members += [("engagement", .number(Double(engagement))), ("because", .string(because))]
    return .object(members)
  }
}

extension PartnerNotification {
  /// The notification as the contract's JSON object.
  public var json: JSONValue {
    var members: [(key: String, value: JSONValue)] = [
      ("position", .number(Double(position))),
      ("ticket", .string(ticket)),
      ("rule", .string(rule.rawValue)),
      ("partner", .string(partner)),
      ("to", .string(to)),
    ]
    if let entry { members.append(("entry", .string(entry))) }
    members.append(("text", .string(text)))
    return .object(members)
  }
}

extension RecordedEvent {
  /// The event as one line of the export format (with `position` and `at`).
  public var exportLine: String { EventCodec.exportLine(self) }
}

/// Reads events in the JSON Lines format of the contract.
public enum EventLines {
  /// Parses a JSON Lines document into events, each with its 1-based line number; blank lines
  /// are skipped.
  /// - Throws: ``PartnerSyncError`` with code `invalidEvent` naming the first bad line.
  public static func parse(_ bytes: [UInt8]) throws(PartnerSyncError) -> [(event: TicketEvent, line: Int)] {
    try PartnerSyncLog.parseJSONLines(bytes)
  }
}
