// Views encode as the command line's `view --format json` (Docs: the contract's "JSON of view").

extension ViewEntry: Codable {
  /// Encodes the entry as the contract's entry object: `id`, `kind`, `owner`, `origin` (`own` or
  /// `copy`), `severed`, `visibility`, `convertedFrom`, `system` (only when true) and the fields
  /// that apply; absent fields are absent.
  public func encode(to encoder: any Encoder) throws {
    var members = encoder.container(keyedBy: MemberKey.self)
    try members.encode(id, forKey: "id")
    try members.encode(owner, forKey: "owner")
    try members.encode(isCopy ? "copy" : "own", forKey: "origin")
    try members.encode(severed, forKey: "severed")
    try members.encodeIfPresent(convertedFrom, forKey: "convertedFrom")
    if system { try members.encode(true, forKey: "system") }
    try content.encode(to: encoder)
  }

  /// Decodes the contract's entry object.
  /// - Throws: `DecodingError` when `origin` is neither `own` nor `copy`, or a member is missing.
  public init(from decoder: any Decoder) throws {
    let members = try decoder.container(keyedBy: MemberKey.self)
    let origin = try members.decode(String.self, forKey: "origin")
    guard origin == "own" || origin == "copy" else {
      throw DecodingError.dataCorruptedError(
        forKey: "origin", in: members, debugDescription: "origin must be 'own' or 'copy', found '\(origin)'")
    }
    self.init(
      id: try members.decode(String.self, forKey: "id"), owner: try members.decode(String.self, forKey: "owner"),
      isCopy: origin == "copy", severed: try members.decode(Bool.self, forKey: "severed"),
      content: try EntryContent(from: decoder),
      convertedFrom: try members.decodeIfPresent(EntryKind.self, forKey: "convertedFrom"),
      system: try members.decodeIfPresent(Bool.self, forKey: "system") ?? false)
  }
}

extension TicketView: Codable {
  /// Encodes the view as the contract's view object: `ticket`, `partner`, `role`, `engagement`
  /// (`null` when there is none), `status` (`none` when there is none), `position`, `entries`.
  public func encode(to encoder: any Encoder) throws {
    var members = encoder.container(keyedBy: MemberKey.self)
    try members.encode(ticket, forKey: "ticket")
    try members.encode(partner, forKey: "partner")
    try members.encode(role, forKey: "role")
    try members.encode(engagement, forKey: "engagement")
    try members.encode(status?.rawValue ?? "none", forKey: "status")
    try members.encode(position, forKey: "position")
    try members.encode(entries, forKey: "entries")
  }

  /// Decodes the contract's view object (the output of `view --format json`).
  public init(from decoder: any Decoder) throws {
    let members = try decoder.container(keyedBy: MemberKey.self)
    let status = try members.decode(String.self, forKey: "status")
    var outsourceStatus: OutsourceStatus?
    if status != "none" {
      guard let known = OutsourceStatus(rawValue: status) else {
        throw DecodingError.dataCorruptedError(
          forKey: "status", in: members, debugDescription: "unknown status '\(status)'")
      }
      outsourceStatus = known
    }
    self.init(
      ticket: try members.decode(String.self, forKey: "ticket"),
      partner: try members.decode(String.self, forKey: "partner"),
      role: try members.decode(PartnerRole.self, forKey: "role"),
      engagement: try members.decodeIfPresent(Int.self, forKey: "engagement"), status: outsourceStatus,
      position: try members.decode(Int64.self, forKey: "position"),
      entries: try members.decode([ViewEntry].self, forKey: "entries"))
  }
}
