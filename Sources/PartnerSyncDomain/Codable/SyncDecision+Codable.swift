// Decisions and notifications encode as the objects of the command line's `audit --format json`
// and `notifications --format json`.

extension SyncDecision: Codable {
  /// The members that the command line's `audit` JSON leaves out: the facts that ``because`` is
  /// written from.
  static let factMembers = ["kind", "owner", "copyBefore", "copyAfter", "severedEarlier", "entryExists"]

  /// Encodes the decision as the contract's decision object (`position`, `event`, `entry`, `by`,
  /// `to`, `outcome`, `rule`, `transforms` when there are some, `heldAt` when set, `engagement`,
  /// `because`) followed by the facts its sentence is written from: `kind`, `owner`,
  /// `copyBefore`, `copyAfter`, `severedEarlier` and `entryExists`.
  public func encode(to encoder: any Encoder) throws {
    var members = encoder.container(keyedBy: MemberKey.self)
    try members.encode(position, forKey: "position")
    try members.encode(event, forKey: "event")
    try members.encode(entry, forKey: "entry")
    try members.encode(by, forKey: "by")
    try members.encode(to, forKey: "to")
    try members.encode(outcome, forKey: "outcome")
    try members.encode(rule, forKey: "rule")
    if !transforms.isEmpty { try members.encode(transforms, forKey: "transforms") }
    try members.encodeIfPresent(heldAt, forKey: "heldAt")
    try members.encode(engagement, forKey: "engagement")
    try members.encode(because, forKey: "because")
    try members.encode(kind, forKey: "kind")
    try members.encode(owner, forKey: "owner")
    try members.encode(copyBefore, forKey: "copyBefore")
    try members.encode(copyAfter, forKey: "copyAfter")
    try members.encode(severedEarlier, forKey: "severedEarlier")
    try members.encode(entryExists, forKey: "entryExists")
  }

  /// Decodes an encoded decision; `because` is not read, but written again from the facts.
  /// - Throws: `DecodingError` when a member is missing, such as the facts, which the command
  ///   line's `audit` JSON does not carry.
  public init(from decoder: any Decoder) throws {
    let members = try decoder.container(keyedBy: MemberKey.self)
    self.init(
      position: try members.decode(Int64.self, forKey: "position"),
      event: try members.decode(EventType.self, forKey: "event"),
      entry: try members.decode(String.self, forKey: "entry"), kind: try members.decode(EntryKind.self, forKey: "kind"),
      by: try members.decode(String.self, forKey: "by"), to: try members.decode(String.self, forKey: "to"),
      outcome: try members.decode(SyncOutcome.self, forKey: "outcome"),
      rule: try members.decode(RuleID.self, forKey: "rule"),
      transforms: try members.decodeIfPresent([RuleID].self, forKey: "transforms") ?? [],
      heldAt: try members.decodeIfPresent(Int64.self, forKey: "heldAt"),
      engagement: try members.decode(Int.self, forKey: "engagement"))
    owner = try members.decode(String.self, forKey: "owner")
    copyBefore = try members.decode(Bool.self, forKey: "copyBefore")
    copyAfter = try members.decode(Bool.self, forKey: "copyAfter")
    severedEarlier = try members.decode(Bool.self, forKey: "severedEarlier")
    entryExists = try members.decode(Bool.self, forKey: "entryExists")
  }
}

extension PartnerNotification: Codable {
  /// Encodes the notification as the contract's notification object: `position`, `ticket`,
  /// `rule`, `partner`, `to`, `entry` when there is one, `text`.
  public func encode(to encoder: any Encoder) throws {
    var members = encoder.container(keyedBy: MemberKey.self)
    try members.encode(position, forKey: "position")
    try members.encode(ticket, forKey: "ticket")
    try members.encode(rule, forKey: "rule")
    try members.encode(partner, forKey: "partner")
    try members.encode(to, forKey: "to")
    try members.encodeIfPresent(entry, forKey: "entry")
    try members.encode(text, forKey: "text")
  }

  /// Decodes the contract's notification object (an element of `notifications --format json`).
  public init(from decoder: any Decoder) throws {
    let members = try decoder.container(keyedBy: MemberKey.self)
    self.init(
      position: try members.decode(Int64.self, forKey: "position"),
      ticket: try members.decode(String.self, forKey: "ticket"), rule: try members.decode(RuleID.self, forKey: "rule"),
      partner: try members.decode(String.self, forKey: "partner"), to: try members.decode(String.self, forKey: "to"),
      entry: try members.decodeIfPresent(String.self, forKey: "entry"),
      text: try members.decode(String.self, forKey: "text"))
  }
}
