// The sentences of the audit and of the notifications, built from a decision's facts (owner,
// actor, counterpart, the counterpart's copy before and after, earlier severing): each sentence
// is rule text joined with claims, and every claim is a fact that the versions just before and
// just after the decision show (the property tests check each one).

/// What a decision did to the counterpart's copy of the entry, by whether there was one before and
/// after it.
enum CopyChange: Sendable, Hashable {
  case created, updated, removed, none

  init(before: Bool, after: Bool) {
    self = before ? (after ? .updated : .removed) : (after ? .created : .none)
  }
}

/// A fact that a sentence states about the history.
enum Claim: Sendable, Hashable {
  /// The decision's event was `actor`'s `event` ("bolt edited").
  case acted(actor: String, event: EventType)
  /// The entry and its owner ("acme's note n1"; "its note n1" right after its owner acting).
  case entry(owner: String, kind: EntryKind, id: String, afterOwner: Bool)
  /// The engagement's sync was active (accepted or in progress) when the change was made.
  case syncActive(engagement: Int)
  /// The engagement was waiting for approval when the change was made.
  case waitingApproval(engagement: Int)
  /// The engagement was complete when the change was made.
  case complete(engagement: Int)
  /// The decision's event is `partner`'s acceptance of the engagement.
  case accepted(partner: String, engagement: Int)
  /// The decision's event rejected the engagement's completion.
  case rejected(engagement: Int)
  /// The decision's event completed the engagement.
  case completed(engagement: Int)
  /// The change was held at that position.
  case heldAt(Int64)
  /// The entry, in its owner's latest state (`deleted`: when deleted), fails the filter `rule`.
  case fails(RuleID, deleted: Bool)
  /// What the decision did to `partner`'s copy, and the transforms that shaped a copy left there.
  case copy(CopyChange, partner: String, transforms: [RuleID])
  /// The decision left `partner`'s version of the entry as it was.
  case unchanged(partner: String)
  /// Only `actor`'s version changed: edited there (`deleted`: removed from it).
  case actorOnly(actor: String, deleted: Bool)
  /// The entry's link to `partner`'s version is severed: by this decision (`now`), or earlier.
  case severed(partner: String, now: Bool)
  /// The owner deleted the entry before the decision.
  case deletedEarlier
  /// The decision's entry is the completion bundle in `lead`'s version, made of `partner`'s time.
  case bundle(partner: String, lead: String, id: String)

  /// The claim in words.
  var text: String {
    switch self {
    case .acted(let actor, let event): "\(actor) \(event.entryVerb)"
    case .entry(let owner, let kind, let id, let afterOwner):
      afterOwner ? "its \(kind.rawValue) \(id)" : "\(owner)'s \(kind.rawValue) \(id)"
    case .syncActive: "while sync was active"
    case .waitingApproval(let n): "while engagement \(n) was waiting for approval of its completion"
    case .complete(let n): "after engagement \(n) was complete"
    case .accepted(let partner, let n): "when \(partner) accepted engagement \(n)"
    case .rejected(let n): "The completion of engagement \(n) was rejected"
    case .completed(let n): "Engagement \(n) was completed"
    case .heldAt(let position): "held at position \(position)"
    case .fails(let rule, let deleted): "it \(deleted ? "was" : "is") \(SyncDecision.filter(rule).what)"
    case .copy(let change, let partner, let transforms):
      switch change {
      case .created: "a copy was made in \(partner)'s version" + Self.shaped(by: transforms)
      case .updated: "\(partner)'s copy was brought up to date" + Self.shaped(by: transforms)
      case .removed: "\(partner)'s copy was removed"
      case .none: "\(partner)'s version holds no copy of it"
      }
    case .unchanged(let partner): "\(partner)'s version was left as it was"
    case .actorOnly(let actor, let deleted):
      deleted ? "it left \(actor)'s version only" : "only \(actor)'s version changed"
    case .severed(let partner, let now):
      now ? "its link to \(partner)'s version is now severed" : "its link to \(partner)'s version was severed earlier"
    case .deletedEarlier: "it was deleted meanwhile"
    case .bundle(let partner, let lead, let id):
      "\(partner)'s time entries in \(lead)'s version were bundled into the non-billable charge \(id)"
    }
  }

  private static func shaped(by transforms: [RuleID]) -> String {
    var parts: [String] = []
    if transforms.contains(.leadTimeAsNote) { parts.append("as a note (lead-time-as-note)") }
    if transforms.contains(.partnerItemsInternalUsersOnly) {
      parts.append("as internal-users-only (partner-items-internal-users-only)")
    }
    return parts.isEmpty ? "" : " " + parts.joined(separator: " and ")
  }
}

/// A piece of a sentence: words of the rule, or a claim about the history.
enum SentencePart: Sendable, Hashable {
  case words(String)
  case claim(Claim)

  var text: String {
    switch self {
    case .words(let words): words
    case .claim(let claim): claim.text
    }
  }
}

extension SyncDecision {
  /// One sentence that a support engineer can read: `sentence` written out.
  public var because: String { sentence.map(\.text).joined() }

  /// The claims of ``because``.
  var claims: [Claim] { sentence.compactMap { if case .claim(let claim) = $0 { claim } else { nil } } }

  /// What the counterpart's copy went through.
  var copyChange: CopyChange { CopyChange(before: copyBefore, after: copyAfter) }

  /// ``because`` as rule words and claims.
  var sentence: [SentencePart] {
    let item = SentencePart.claim(.entry(owner: owner, kind: kind, id: entry, afterOwner: false))
    let change: [SentencePart] = [
      .claim(.acted(actor: by, event: event)), .words(" "),
      .claim(.entry(owner: owner, kind: kind, id: entry, afterOwner: owner == by)),
    ]
    let held: [SentencePart] = [.words(" "), .claim(.heldAt(heldAt ?? 0))]
    let copy = SentencePart.claim(.copy(copyChange, partner: to, transforms: transforms))
    var existed: [SentencePart] { [item, .words(" existed "), .claim(.accepted(partner: to, engagement: engagement))] }
    var notReleased: [SentencePart] {
      [.claim(.rejected(engagement: engagement)), .words(", but the change to "), item] + held
        + [.words(" was not released: ")]
    }
    switch rule {
    case .ownChangeSyncs:
      return change + [.words(" "), .claim(.syncActive(engagement: engagement)), .words(", so "), copy, .words(".")]
    case .copiedAtAcceptance: return existed + [.words(", so "), copy, .words(".")]
    case .internalNeverSyncs, .linksNeverSync, .leadChargesStayLocal:
      let filter: [SentencePart] = [
        .claim(.fails(rule, deleted: !entryExists)), .words(", and " + Self.filter(rule).reason + ", so "), copy,
        .words("."),
      ]
      switch event {
      case .accepted: return existed + [.words(", but ")] + filter
      case .completionRejected: return notReleased + filter
      default: return change + [.words(": ")] + filter
      }
    case .foreignEditSevers, .foreignDeleteSevers:
      return change + [
        .words(": "), .claim(.actorOnly(actor: by, deleted: rule == .foreignDeleteSevers)), .words(", and "),
        .claim(.severed(partner: to, now: !severedEarlier)), .words("."),
      ]
    case .severedLink:
      let stays: [SentencePart] = [
        .claim(.severed(partner: to, now: false)), .words(", so "), .claim(.unchanged(partner: to)), .words("."),
      ]
      return event == .completionRejected ? notReleased + stays : change + [.words(", but ")] + stays
    case .suspendedWaitingApproval:
      return change + [
        .words(" "), .claim(.waitingApproval(engagement: engagement)), .words(", so the change was held and "),
        .claim(.unchanged(partner: to)), .words("."),
      ]
    case .releasedOnRejection:
      let effect: [SentencePart] =
        copyChange == .none ? [.claim(.deletedEarlier), .words(", and "), copy] : [copy]
      return [.claim(.rejected(engagement: engagement)), .words(", so the change to "), item] + held
        + [.words(" was released: ")] + effect + [.words(".")]
    case .droppedAtCompletion:
      return [.claim(.completed(engagement: engagement)), .words(" while the change to "), item] + held
        + [.words(" was waiting, so the change was dropped and "), .claim(.unchanged(partner: to)), .words(".")]
    case .syncEnded:
      return change + [
        .words(" "), .claim(.complete(engagement: engagement)), .words(", so "), .claim(.unchanged(partner: to)),
        .words("."),
      ]
    case .timeBundledAtCompletion:
      return [
        .claim(.completed(engagement: engagement)), .words(", so "),
        .claim(.bundle(partner: by, lead: to, id: entry)), .words("."),
      ]
    case .leadTimeAsNote, .partnerItemsInternalUsersOnly, .outsourcingNotifiesPrimaryContact,
      .syncedChangeNotifiesPartner, .subcontractorTimeNotifiesResource:
      return [.words(rule.summary)]
    }
  }

  /// What a filter rule finds the entry it keeps home to be, and why it keeps it, as the rule says.
  static func filter(_ rule: RuleID) -> (what: String, reason: String) {
    switch rule {
    case .internalNeverSyncs: ("internal", "internal entries never leave their partner")
    case .linksNeverSync: ("a link attachment", "only file attachments are copied")
    default: ("a charge of the lead", "the lead's charges are never copied to a service partner")
    }
  }
}

// MARK: - Notification texts

extension PartnerNotification {
  /// ``text``, written from ``message``.
  func written() -> String {
    switch message {
    case .written(let text): return text
    case .syncedChange(let by, let kind, let event, let released, let copy):
      let item = "\(kind.rawValue) \(entry ?? "") on ticket \(ticket)"
      let effect =
        switch copy {
        case .created: "\(partner)'s version now holds a copy"
        case .updated: "\(partner)'s copy is up to date"
        case .removed: "it is gone from \(partner)'s version too"
        case .none: "\(partner)'s version holds no copy of it"
        }
      return released
        ? "\(by)'s change to \(item), held while the completion was pending, was released: \(effect)."
        : "\(by) \(event.entryVerb) \(item); \(effect)."
    case .timeLogged(let by, _):
      return "\(by) logged time entry \(entry ?? "") on ticket \(ticket)."
    case .status(let type, let lead, let partner, let number):
      return switch type {
      case .outsourced: "\(lead) outsourced ticket \(ticket) to \(partner) (engagement \(number))."
      case .cancelled: "\(lead) withdrew its offer of ticket \(ticket) (engagement \(number))."
      case .declined: "\(partner) declined ticket \(ticket) (engagement \(number))."
      case .accepted: "\(partner) accepted ticket \(ticket) (engagement \(number))."
      case .completionRequested:
        "\(partner) asks for approval of its work on ticket \(ticket) (engagement \(number))."
      case .completionRejected: "\(lead) rejected the completion of ticket \(ticket) (engagement \(number))."
      case .completionApproved: "\(lead) approved the completion of ticket \(ticket) (engagement \(number))."
      case .completed: "\(lead) completed engagement \(number) of ticket \(ticket)."
      case .entryAdded, .entryEdited, .entryDeleted: ""
      }
    }
  }
}

extension EventType {
  /// What an event did to its entry, in words: "added", "deleted" or "edited".
  package var entryVerb: String { self == .entryAdded ? "added" : self == .entryDeleted ? "deleted" : "edited" }
}
