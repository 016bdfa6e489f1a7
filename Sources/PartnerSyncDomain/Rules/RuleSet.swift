/// The sync rules a projection applies, as a value.
///
/// ``standard`` is the behaviour of the domain. The optional rules can be switched off to replay a
/// history under a variant and compare views and decisions. `internal-never-syncs` is not
/// optional: nothing internal ever leaves its partner, under any rule set.
public struct RuleSet: Sendable, Hashable {
  /// `lead-time-as-note`: the lead's time entries reach the service partner as notes.
  public var leadTimeAsNote = true
  /// `partner-items-internal-users-only`: the partner's notes and attachments reach the lead as
  /// internal-users-only.
  public var partnerItemsInternalUsersOnly = true
  /// `links-never-sync`: only `file` attachments are copied.
  public var linksNeverSync = true
  /// `lead-charges-stay-local`: the lead's charges are never copied.
  public var leadChargesStayLocal = true
  /// `copied-at-acceptance`: the lead's existing entries are copied when a partner accepts.
  public var copyAtAcceptance = true
  /// `time-bundled-at-completion`: the partner's time is bundled into a charge at completion.
  public var bundleTimeAtCompletion = true

  /// The rules of the domain, every rule on.
  public static let standard = RuleSet()

  /// Creates the standard rule set; change its properties to make a variant.
  public init() {}

  /// The first filter that keeps an entry in this state from crossing, or `nil` when it may cross.
  ///
  /// The filters are tried in this order: `internal-never-syncs`, `links-never-sync`,
  /// `lead-charges-stay-local`.
  func failingFilter(_ content: EntryContent, ownedByLead: Bool) -> RuleID? {
    if content.visibility == .internal { return .internalNeverSyncs }
    if linksNeverSync, content.kind == .attachment, content.attachmentType != .file {
      return .linksNeverSync
    }
    if leadChargesStayLocal, ownedByLead, content.kind == .charge { return .leadChargesStayLocal }
    return nil
  }

  /// Shapes `content`, an entry's state, into the copy that the other side receives; returns the
  /// kind it was converted from, if any, and the transforms that shaped it.
  func shapeCopy(
    _ content: inout EntryContent, ownedByLead: Bool
  ) -> (convertedFrom: EntryKind?, transforms: [RuleID]) {
    if ownedByLead {
      guard leadTimeAsNote, content.kind == .time else { return (nil, []) }
      content.kind = .note
      content.visibility = .public
      return (.time, Self.leadTimeAsNoteTransform)
    }
    guard partnerItemsInternalUsersOnly, content.kind == .note || content.kind == .attachment else {
      return (nil, [])
    }
    content.visibility = .internalUsersOnly
    return (nil, Self.internalUsersOnlyTransform)
  }

  // A copy's transforms, made once: a replay shapes many copies alike.
  private static let leadTimeAsNoteTransform: [RuleID] = [.leadTimeAsNote]
  private static let internalUsersOnlyTransform: [RuleID] = [.partnerItemsInternalUsersOnly]
}
