import Testing

@testable import PartnerSync
@testable import PartnerSyncDomain

/// Every audit sentence and notification text states only facts that hold: over random
/// histories, each claim of a decision's `because` is checked against the versions just before
/// and just after its position (and the history up to it), and so is each notification's text.
@Suite("Audit sentences and notification texts are true")
struct SentencePropertyTests {
  @Test("every claim of every sentence holds in the versions around its decision", arguments: 0..<8)
  func sentencesAreTrue(chunk: Int) throws {
    for index in 0..<30 {
      let seed = 0x5E47_0000 + UInt64(chunk * 30 + index)
      var rng = SplitMix64(seed: seed ^ 0x77)
      let history = try RandomHistory(seed: seed, length: Int.random(in: 20...90, using: &rng))
      let checker = Checker(history: history)
      for decision in history.ticket.projection.decisions {
        #expect(decision.because == decision.sentence.map(\.text).joined())
        for claim in decision.claims {
          if let problem = checker.problem(with: claim, of: decision) {
            Issue.record("seed \(seed): \(decision.brief): \"\(decision.because)\": \(problem)")
          }
        }
      }
      for notification in history.ticket.projection.notifications {
        if let problem = checker.problem(with: notification) {
          Issue.record("seed \(seed): \(notification.brief): \"\(notification.text)\": \(problem)")
        }
      }
    }
  }

  @Test("the random histories make every kind of claim")
  func claimsAreCovered() throws {
    var seen: Set<String> = []
    for index in 0..<60 {
      let history = try RandomHistory(seed: 0x5E47_0000 + UInt64(index), length: 80)
      for decision in history.ticket.projection.decisions {
        for claim in decision.claims { seen.insert(Checker.name(of: claim)) }
      }
    }
    #expect(seen == Set(Checker.claimNames))
  }

  @Test("the five false sentences once seen are now true ones")
  func formerlyFalseSentences() throws {
    // A sync-ended change to the lead's note names the lead as its owner.
    var t = try Ticket([
      ev.added("n1", by: "acme", .note), ev.outsourced("bolt"), ev.accepted(), ev.completed(),
      ev.edited("n1", by: "bolt", text: "late"),
    ])
    #expect(
      t.projection.decisions.last?.because
        == "bolt edited acme's note n1 after engagement 1 was complete, so acme's version was left as it was.")
    // An internal note made public: its copy is made, not brought up to date.
    t = try Ticket([
      ev.outsourced("bolt"), ev.accepted(), ev.added("n1", by: "acme", .note, visibility: .internal),
      ev.edited("n1", by: "acme", visibility: .public),
    ])
    #expect(
      t.projection.decisions.last?.because
        == "acme edited its note n1 while sync was active, so a copy was made in bolt's version.")
    #expect(
      t.projection.notifications.last?.text == "acme edited note n1 on ticket T-1; bolt's version now holds a copy.")
    // A change held, then the entry deleted while held: the release applied nothing.
    t = try Ticket([
      ev.outsourced("bolt"), ev.accepted(), ev.requested(), ev.added("n1", by: "acme", .note),
      ev.deleted("n1", by: "acme"), ev.rejected(),
    ])
    #expect(
      t.projection.decisions.last?.because
        == "The completion of engagement 1 was rejected, so the change to acme's note n1 held at position 5 was released: it was deleted meanwhile, and bolt's version holds no copy of it."
    )
    #expect(!t.projection.notifications.contains { $0.entry == "n1" })
    // A second foreign edit: the link was severed earlier, not now.
    t = try Ticket([
      ev.outsourced("bolt"), ev.accepted(), ev.added("n1", by: "acme", .note),
      ev.edited("n1", by: "bolt", text: "a"), ev.edited("n1", by: "bolt", text: "b"),
    ])
    #expect(
      t.projection.decisions.map(\.because).suffix(2) == [
        "bolt edited acme's note n1: only bolt's version changed, and its link to acme's version is now severed.",
        "bolt edited acme's note n1: only bolt's version changed, and its link to acme's version was severed earlier.",
      ])
    // A dropped change says what was done, not what will be.
    t = try Ticket([
      ev.outsourced("bolt"), ev.accepted(), ev.requested(), ev.added("n1", by: "bolt", .note), ev.approved(),
    ])
    #expect(
      t.projection.decisions.last?.because
        == "Engagement 1 was completed while the change to bolt's note n1 held at position 4 was waiting, so the change was dropped and acme's version was left as it was."
    )
  }
}

/// Checks claims against a random history's snapshots (one after each position).
private struct Checker {
  let history: RandomHistory
  let lead: String

  init(history: RandomHistory) {
    self.history = history
    lead = history.ticket.projection.lead ?? ""
  }

  static let claimNames = [
    "acted", "entry", "syncActive", "waitingApproval", "complete", "accepted", "rejected", "completed",
    "heldAt", "fails", "copy", "unchanged", "actorOnly", "severed", "deletedEarlier", "bundle",
  ]

  static func name(of claim: Claim) -> String {
    String(String(describing: claim).prefix { $0 != "(" })
  }

  func event(at position: Int64) -> TicketEvent { history.ticket.recorded[Int(position) - 1].event }

  /// The snapshot after `position` (0: before the first event).
  func snapshot(after position: Int64) -> Snapshot? {
    position >= 1 ? history.snapshots[Int(position) - 1] : nil
  }

  /// `partner`'s version (of `engagement`, for a service partner) in `snapshot`.
  func view(_ partner: String, engagement: Int, in snapshot: Snapshot?) -> TicketView? {
    snapshot?.views.first {
      $0.partner == partner && ($0.role == .lead || $0.engagement == engagement)
    }
  }

  func entry(_ id: String, of partner: String, engagement: Int, in snapshot: Snapshot?) -> ViewEntry? {
    view(partner, engagement: engagement, in: snapshot)?.entries.first { $0.id == id }
  }

  func status(of engagement: Int, in snapshot: Snapshot?) -> OutsourceStatus? {
    snapshot?.views.first { $0.role == .service && $0.engagement == engagement }?.status
  }

  /// The owner's own entry as it last existed at or before `position`.
  func ownerState(of decision: SyncDecision, upTo position: Int64) -> ViewEntry? {
    var p = position
    while p >= 1 {
      if let found = entry(decision.entry, of: decision.owner, engagement: decision.engagement, in: snapshot(after: p)),
        !found.isCopy
      {
        return found
      }
      p -= 1
    }
    return nil
  }

  func problem(with claim: Claim, of d: SyncDecision) -> String? {
    let before = snapshot(after: d.position - 1)
    let after = snapshot(after: d.position)
    let event = event(at: d.position)
    let toBefore = entry(d.entry, of: d.to, engagement: d.engagement, in: before)
    let toAfter = entry(d.entry, of: d.to, engagement: d.engagement, in: after)
    switch claim {
    case .acted(let actor, let type):
      return event.by == actor && event.type == type ? nil : "the event is \(event.type.rawValue) by \(event.by)"
    case .entry(let owner, let kind, let id, let afterOwner):
      guard let state = ownerState(of: d, upTo: d.position), id == d.entry else {
        return "no own entry \(id) of \(owner)"
      }
      if afterOwner, event.by != owner { return "the actor is not the owner" }
      return state.owner == owner && state.content.kind == kind
        ? nil : "the owner's entry is \(state.owner)'s \(state.content.kind?.rawValue ?? "?")"
    case .syncActive(let n):
      let s = status(of: n, in: before)
      return s == .accepted || s == .inProgress ? nil : "engagement \(n) was \(s?.rawValue ?? "none")"
    case .waitingApproval(let n):
      return status(of: n, in: before) == .waitingApproval ? nil : "engagement \(n) was not waiting"
    case .complete(let n):
      return status(of: n, in: before) == .complete ? nil : "engagement \(n) was not complete"
    case .accepted(let partner, let n):
      return event.type == .accepted && event.by == partner && status(of: n, in: after) == .accepted
        ? nil : "no acceptance of engagement \(n) by \(partner)"
    case .rejected(let n):
      return event.type == .completionRejected && status(of: n, in: before) == .waitingApproval
        && status(of: n, in: after) == .inProgress ? nil : "no rejection of engagement \(n)"
    case .completed(let n):
      return (event.type == .completionApproved || event.type == .completed) && status(of: n, in: before) != .complete
        && status(of: n, in: after) == .complete ? nil : "engagement \(n) was not completed here"
    case .heldAt(let position):
      let held = history.ticket.projection.decisions.contains {
        $0.position == position && $0.outcome == .held && $0.entry == d.entry && $0.to == d.to
      }
      return held && position < d.position ? nil : "nothing of it was held at \(position)"
    case .fails(let rule, let deleted):
      let exists = entry(d.entry, of: d.owner, engagement: d.engagement, in: after) != nil
      if deleted == exists { return deleted ? "it still exists" : "it was deleted" }
      guard let state = ownerState(of: d, upTo: d.position) else { return "no owner state" }
      switch rule {
      case .internalNeverSyncs:
        return state.content.visibility == .internal ? nil : "it is not internal"
      case .linksNeverSync:
        return state.content.kind == .attachment && state.content.attachmentType != .file
          ? nil : "not a link attachment"
      case .leadChargesStayLocal:
        return state.content.kind == .charge && d.owner == lead ? nil : "not a charge of the lead"
      default:
        return "\(rule.rawValue) is not a filter"
      }
    case .copy(let change, let partner, let transforms):
      guard partner == d.to else { return "the copy named is not the counterpart's" }
      let actual = CopyChange(before: toBefore != nil, after: toAfter != nil)
      guard actual == change else { return "the copy went \(actual), not \(change)" }
      guard let copy = toAfter else { return transforms.isEmpty ? nil : "transforms without a copy" }
      guard copy.isCopy else { return "the counterpart's entry is its own" }
      if let owner = ownerState(of: d, upTo: d.position),
        copy.content.text != owner.content.text || copy.content.title != owner.content.title
          || copy.content.name != owner.content.name
      {
        return "the copy does not match the owner's latest state"
      }
      var shaped: [RuleID] = []
      if copy.convertedFrom == .time { shaped.append(.leadTimeAsNote) }
      if copy.content.visibility == .internalUsersOnly { shaped.append(.partnerItemsInternalUsersOnly) }
      return shaped == transforms ? nil : "the copy was shaped by \(shaped)"
    case .unchanged(let partner):
      guard partner == d.to else { return "not the counterpart" }
      return toBefore == toAfter ? nil : "\(partner)'s version of it changed"
    case .actorOnly(let actor, let deleted):
      let mine = entry(d.entry, of: actor, engagement: d.engagement, in: after)
      if deleted ? mine != nil : mine == nil { return "\(actor)'s version does not show the change" }
      return toBefore == toAfter ? nil : "\(d.to)'s version changed too"
    case .severed(_, let now):
      let earlier = history.ticket.projection.decisions.contains {
        $0.position < d.position && $0.entry == d.entry && $0.engagement == d.engagement
          && ($0.rule == .foreignEditSevers || $0.rule == .foreignDeleteSevers)
      }
      if now == earlier { return now ? "it was severed earlier" : "it was never severed before" }
      if now, d.rule == .foreignEditSevers,
        entry(d.entry, of: d.by, engagement: d.engagement, in: after)?.severed != true
      {
        return "the copy does not show severed"
      }
      return nil
    case .deletedEarlier:
      let owned = { (s: Snapshot?) in entry(d.entry, of: d.owner, engagement: d.engagement, in: s) }
      return owned(before) == nil && owned(after) == nil ? nil : "the entry exists"
    case .bundle(let partner, let lead, let id):
      guard let bundle = entry(id, of: lead, engagement: d.engagement, in: after),
        entry(id, of: lead, engagement: d.engagement, in: before) == nil
      else { return "no new bundle \(id)" }
      let times = view(lead, engagement: d.engagement, in: after)?.entries.filter {
        $0.isCopy && $0.owner == partner && $0.content.kind == .time
      }
      return bundle.system && bundle.content.billable == false && !(times ?? []).isEmpty
        ? nil : "the bundle is not \(partner)'s time"
    }
  }

  /// A notification's text against the history: who did what, and what the notified
  /// partner's version shows after.
  func problem(with n: PartnerNotification) -> String? {
    let event = event(at: n.position)
    switch n.rule {
    case .outsourcingNotifiesPrimaryContact:
      let verbs: [EventType: String] = [
        .outsourced: "outsourced", .cancelled: "withdrew", .declined: "declined", .accepted: "accepted",
        .completionRequested: "asks for approval", .completionRejected: "rejected", .completionApproved: "approved",
        .completed: "completed",
      ]
      guard let verb = verbs[event.type] else { return "not a status event" }
      return n.text.hasPrefix("\(event.by) \(verb) ") ? nil : "not \(event.by)'s \(event.type.rawValue)"
    case .subcontractorTimeNotifiesResource:
      let expected = "\(event.by) logged time entry \(n.entry ?? "") on ticket T-1."
      return event.type == .entryAdded && event.payload.entry == n.entry && event.by != lead && n.text == expected
        ? nil : "not an added time entry of the partner"
    case .syncedChangeNotifiesPartner:
      guard
        let d = history.ticket.projection.decisions.first(where: {
          $0.position == n.position && $0.entry == n.entry && $0.to == n.partner
        })
      else { return "no decision" }
      let has = { (s: Snapshot?) in entry(d.entry, of: n.partner, engagement: d.engagement, in: s) != nil }
      let (before, after) = (has(snapshot(after: n.position - 1)), has(snapshot(after: n.position)))
      let effect: String
      switch (before, after) {
      case (false, true): effect = "\(n.partner)'s version now holds a copy."
      case (true, true): effect = "\(n.partner)'s copy is up to date."
      case (true, false): effect = "it is gone from \(n.partner)'s version too."
      case (false, false): return "nothing of it changed in \(n.partner)'s version"
      }
      guard n.text.hasSuffix(effect) else { return "expected to end \"\(effect)\"" }
      if d.outcome == .released {
        return n.text.hasPrefix("\(d.by)'s change to ") && event.type == .completionRejected ? nil : "not a release"
      }
      let verb = event.type == .entryAdded ? "added" : event.type == .entryDeleted ? "deleted" : "edited"
      return n.text.hasPrefix("\(event.by) \(verb) ") ? nil : "not \(event.by)'s change"
    default:
      return "\(n.rule.rawValue) is not a notification rule"
    }
  }
}
