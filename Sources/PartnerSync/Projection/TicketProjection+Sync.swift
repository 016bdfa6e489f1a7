// The sync rules of DOMAIN.md, each decided in one place. A change is decided by
// `decide(_:side:by:event:position:)` following "How one change is decided" step by step; the
// status events release, drop and bundle in `perform(_:event:at:)`.

extension TicketProjection {
  mutating func perform(_ plan: Plan, event: TicketEvent, at position: Int64) {
    switch plan {
    case .outsource(let o, let lead):
      self.lead = lead
      let number = engagements.count + 1
      engagements.append(
        EngagementState(number: number, partner: o.partner, resource: o.resource, rate: o.rate))
      notifyStatus(.outsourced, engagement: number, at: position)
    case .status(let type, let number):
      performStatus(type, engagement: number, at: position)
    case .entry(let side, let change):
      if lead == nil { lead = event.by }
      applyEntryChange(change, side: side, by: event.by, event: event.type, at: position)
    }
  }

  private mutating func performStatus(_ type: EventType, engagement number: Int, at position: Int64) {
    let index = number - 1
    switch type {
    case .cancelled:
      engagements[index].status = .cancelled
      notifyStatus(type, engagement: number, at: position)
    case .declined:
      engagements[index].status = .declined
      notifyStatus(type, engagement: number, at: position)
    case .accepted:
      engagements[index].status = .accepted
      engagements[index].version = TicketVersion()
      notifyStatus(type, engagement: number, at: position)
      copyLeadEntriesAtAcceptance(engagement: number, at: position)
    case .completionRequested:
      engagements[index].status = .waitingApproval
      engagements[index].frozen = Set(engagements[index].version?.entries.keys ?? [:].keys)
      notifyStatus(type, engagement: number, at: position)
    case .completionRejected:
      engagements[index].status = .inProgress
      engagements[index].frozen = []
      notifyStatus(type, engagement: number, at: position)
      releaseHeldChanges(engagement: number, at: position)
    case .completionApproved, .completed:
      engagements[index].status = .complete
      engagements[index].frozen = []
      notifyStatus(type, engagement: number, at: position)
      dropHeldChanges(engagement: number, event: type, at: position)
      bundleTime(engagement: number, event: type, at: position)
    case .outsourced, .entryAdded, .entryEdited, .entryDeleted:
      break
    }
  }

  // MARK: Entry changes

  private mutating func applyEntryChange(
    _ change: EntryChange, side: Side, by: String, event: EventType, at position: Int64
  ) {
    let id = change.id
    switch change {
    case .add(_, let content):
      let content = content.withDefaults()
      records[id] = EntryRecord(id: id, owner: by, home: side, content: content)
      if side == .lead { leadEntryOrder.append(id) }
      updateVersion(side) {
        $0.append(
          VersionEntry(
            id: id, seq: 0, owner: by, isCopy: false, severed: false, content: content,
            convertedFrom: nil, system: false, sourceEngagement: nil))
      }
    case .edit(_, let changes):
      if var record = records[id], record.home == side {
        record.content = record.content.applying(changes)
        records[id] = record
        updateVersion(side) { $0.entries[id]?.content = record.content }
      } else {
        updateVersion(side) { version in
          if var copy = version.entries[id] {
            copy.content = copy.content.applying(changes)
            version.entries[id] = copy
          }
        }
      }
    case .delete:
      if records[id]?.home == side { records[id]?.deleted = true }
      updateVersion(side) { _ = $0.entries.removeValue(forKey: id) }
    }
    if case .engagement(let n) = side, n == engagements.count, engagements[n - 1].status == .accepted {
      engagements[n - 1].status = .inProgress
    }
    decide(change, side: side, by: by, event: event, at: position)
  }

  /// Decides one change by `by` on its version `side`: the steps of "How one change is decided".
  private mutating func decide(
    _ change: EntryChange, side: Side, by: String, event: EventType, at position: Int64
  ) {
    let id = change.id
    guard let record = records[id], let lead, let kind = record.content.kind else { return }
    let foreign = record.home != side
    let number: Int
    let to: String
    switch (foreign, side, record.home) {
    case (true, .lead, .engagement(let k)):
      number = k
      to = record.owner
    case (_, .engagement(let k), _):
      number = k
      to = foreign ? record.owner : lead
    default:
      // The lead's own entry: the counterpart is the current engagement's partner, once accepted.
      guard let current = engagements.last, current.status.hasVersion else { return }
      number = current.number
      to = current.partner
    }
    func decided(_ outcome: SyncOutcome, _ rule: RuleID, transforms: [RuleID] = []) -> SyncDecision {
      SyncDecision(
        position: position, event: event, entry: id, kind: kind, by: by, to: to, outcome: outcome,
        rule: rule, transforms: transforms, engagement: number)
    }
    let engagement = engagements[number - 1]
    // 1. sync-ended
    if engagement.status == .complete || number != engagements.count {
      note(decided(.notSynced, .syncEnded))
      return
    }
    // 2. foreign-edit-severs / foreign-delete-severs
    if foreign {
      engagements[number - 1].severed.insert(id)
      if case .delete = change {
        note(decided(.notSynced, .foreignDeleteSevers))
      } else {
        updateVersion(side) { $0.entries[id]?.severed = true }
        note(decided(.notSynced, .foreignEditSevers))
      }
      return
    }
    // 3. severed-link
    if engagement.severed.contains(id) {
      note(decided(.notSynced, .severedLink))
      return
    }
    let target: Side = side == .lead ? .engagement(number) : .lead
    let filter = rules.failingFilter(record.content, ownedByLead: record.home == .lead)
    let hasCopy = version(target).entries[id] != nil
    let hasHeld = engagement.held.contains { $0.entry == id && $0.to == to }
    // 4. a filter keeps it home, and nothing of it is over there
    if let filter, !hasCopy, !hasHeld {
      note(decided(.notSynced, filter))
      return
    }
    // 5. suspended-waiting-approval
    if engagement.status == .waitingApproval {
      engagements[number - 1].held.append(
        HeldChange(position: position, entry: id, kind: kind, by: by, to: to))
      note(decided(.held, .suspendedWaitingApproval))
      return
    }
    // 6. a filter now fails but a copy exists: withdraw it
    if let filter {
      updateVersion(target) { _ = $0.entries.removeValue(forKey: id) }
      var decision = decided(.notSynced, filter)
      decision.withdrewCopy = true
      note(decision)
      return
    }
    // 7. own-change-syncs
    let copy = bringCopyUpToDate(id, engagement: number, in: target)
    note(
      decided(.synced, .ownChangeSyncs, transforms: copy.transforms ?? []),
      firstTimeCopy: copy.firstTimeCopy)
  }

  /// Makes `target`'s copy of entry `id` match the entry's latest state, filters applied.
  ///
  /// Returns the transforms that shaped the copy (`nil` when no copy is left), and whether a
  /// service partner's time entry reached the lead for the first time.
  private mutating func bringCopyUpToDate(
    _ id: String, engagement number: Int, in target: Side
  ) -> (transforms: [RuleID]?, firstTimeCopy: Bool) {
    guard let record = records[id] else { return (nil, false) }
    let ownedByLead = record.home == .lead
    if record.deleted || rules.failingFilter(record.content, ownedByLead: ownedByLead) != nil {
      updateVersion(target) { _ = $0.entries.removeValue(forKey: id) }
      return (nil, false)
    }
    let copy = rules.copy(of: record.content, ownedByLead: ownedByLead)
    updateVersion(target) { version in
      if version.entries[id] != nil {
        version.entries[id]?.content = copy.content
        version.entries[id]?.convertedFrom = copy.convertedFrom
      } else {
        version.append(
          VersionEntry(
            id: id, seq: 0, owner: record.owner, isCopy: true, severed: false, content: copy.content,
            convertedFrom: copy.convertedFrom, system: false,
            sourceEngagement: target == .lead ? number : nil))
      }
    }
    var firstTime = false
    if target == .lead, copy.content.kind == .time,
      engagements[number - 1].timeNotified.insert(id).inserted
    {
      firstTime = true
    }
    return (copy.transforms, firstTime)
  }

  // MARK: Status-driven rules

  /// `copied-at-acceptance`: the lead's entries that exist, in creation order.
  private mutating func copyLeadEntriesAtAcceptance(engagement number: Int, at position: Int64) {
    guard rules.copyAtAcceptance, let lead else { return }
    let partner = engagements[number - 1].partner
    for id in leadEntryOrder {
      guard let record = records[id], !record.deleted, let kind = record.content.kind else { continue }
      let decision: SyncDecision
      if let filter = rules.failingFilter(record.content, ownedByLead: true) {
        decision = SyncDecision(
          position: position, event: .accepted, entry: id, kind: kind, by: lead, to: partner,
          outcome: .notSynced, rule: filter, engagement: number)
      } else {
        let copy = bringCopyUpToDate(id, engagement: number, in: .engagement(number))
        decision = SyncDecision(
          position: position, event: .accepted, entry: id, kind: kind, by: lead, to: partner,
          outcome: .synced, rule: .copiedAtAcceptance, transforms: copy.transforms ?? [],
          engagement: number)
      }
      note(decision)
    }
  }

  /// `released-on-rejection`: each held change, in the order it was held.
  private mutating func releaseHeldChanges(engagement number: Int, at position: Int64) {
    let held = engagements[number - 1].held
    engagements[number - 1].held = []
    for change in held {
      var decision = SyncDecision(
        position: position, event: .completionRejected, entry: change.entry, kind: change.kind,
        by: change.by, to: change.to, outcome: .released, rule: .releasedOnRejection,
        heldAt: change.position, engagement: number)
      if engagements[number - 1].severed.contains(change.entry) {
        decision.outcome = .notSynced
        decision.rule = .severedLink
        note(decision)
        continue
      }
      let target: Side = change.to == lead ? .lead : .engagement(number)
      let copy = bringCopyUpToDate(change.entry, engagement: number, in: target)
      decision.transforms = copy.transforms ?? []
      note(decision, firstTimeCopy: copy.firstTimeCopy)
    }
  }

  /// `dropped-at-completion`: each held change, in the order it was held.
  private mutating func dropHeldChanges(engagement number: Int, event: EventType, at position: Int64) {
    let held = engagements[number - 1].held
    engagements[number - 1].held = []
    for change in held {
      note(
        SyncDecision(
          position: position, event: event, entry: change.entry, kind: change.kind, by: change.by,
          to: change.to, outcome: .dropped, rule: .droppedAtCompletion, heldAt: change.position,
          engagement: number))
    }
  }

  /// `time-bundled-at-completion`: one non-billable charge for the partner's time in the lead's version.
  private mutating func bundleTime(engagement number: Int, event: EventType, at position: Int64) {
    guard rules.bundleTimeAtCompletion, let lead else { return }
    let engagement = engagements[number - 1]
    let times = leadVersion.ordered.filter {
      $0.isCopy && $0.sourceEngagement == number && $0.content.kind == .time
    }
    guard !times.isEmpty else { return }
    let hours = times.reduce(0.0) { $0 + ($1.content.hours ?? 0) }
    let id = Identifier.bundleID(engagement: number)
    let content = EntryContent(
      kind: .charge, hours: hours, amount: engagement.rate.map { hours * $0 }, billable: false)
    records[id] = EntryRecord(id: id, owner: lead, home: .lead, content: content)
    leadEntryOrder.append(id)
    leadVersion.append(
      VersionEntry(
        id: id, seq: 0, owner: lead, isCopy: false, severed: false, content: content,
        convertedFrom: nil, system: true, sourceEngagement: nil))
    note(
      SyncDecision(
        position: position, event: event, entry: id, kind: .charge, by: engagement.partner, to: lead,
        outcome: .synced, rule: .timeBundledAtCompletion, engagement: number))
  }

  // MARK: Decisions and notifications

  /// Records a decision and the notifications it sends (`synced-change-notifies-partner`,
  /// `subcontractor-time-notifies-resource`).
  private mutating func note(_ decision: SyncDecision, firstTimeCopy: Bool = false) {
    decisions.append(decision)
    guard decision.rule == .ownChangeSyncs || decision.outcome == .released else { return }
    notifications.append(
      PartnerNotification(
        position: decision.position, ticket: ticket, rule: .syncedChangeNotifiesPartner,
        partner: decision.to, to: "ticket", entry: decision.entry,
        text: Self.syncedChangeText(decision, ticket: ticket)))
    if firstTimeCopy {
      let resource = engagements[decision.engagement - 1].resource ?? "assigned-resource"
      notifications.append(
        PartnerNotification(
          position: decision.position, ticket: ticket, rule: .subcontractorTimeNotifiesResource,
          partner: decision.to, to: resource, entry: decision.entry,
          text: "\(decision.by) logged time entry \(decision.entry) on ticket \(ticket).")
      )
    }
  }

  static func syncedChangeText(_ d: SyncDecision, ticket: String) -> String {
    let item = "\(d.kind.rawValue) \(d.entry) on ticket \(ticket)"
    if d.outcome == .released {
      return "\(d.by)'s change to \(item), held while the completion was pending, now reached \(d.to)'s version."
    }
    switch d.event {
    case .entryAdded: return "\(d.by) added \(item); it is now in \(d.to)'s version."
    case .entryDeleted: return "\(d.by) deleted \(item); it is gone from \(d.to)'s version too."
    default: return "\(d.by) edited \(item); \(d.to)'s copy is up to date."
    }
  }

  /// `outsourcing-notifies-primary-contact`: the other partner, or both (lead first) at the end.
  private mutating func notifyStatus(_ type: EventType, engagement number: Int, at position: Int64) {
    guard let lead else { return }
    let partner = engagements[number - 1].partner
    let notified: [String]
    let text: String
    switch type {
    case .outsourced:
      notified = [partner]
      text = "\(lead) outsourced ticket \(ticket) to \(partner) (engagement \(number))."
    case .cancelled:
      notified = [partner]
      text = "\(lead) withdrew its offer of ticket \(ticket) (engagement \(number))."
    case .declined:
      notified = [lead]
      text = "\(partner) declined ticket \(ticket) (engagement \(number))."
    case .accepted:
      notified = [lead]
      text = "\(partner) accepted ticket \(ticket) (engagement \(number))."
    case .completionRequested:
      notified = [lead]
      text = "\(partner) asks for approval of its work on ticket \(ticket) (engagement \(number))."
    case .completionRejected:
      notified = [partner]
      text = "\(lead) rejected the completion of ticket \(ticket) (engagement \(number))."
    case .completionApproved:
      notified = [lead, partner]
      text = "\(lead) approved the completion of ticket \(ticket) (engagement \(number))."
    case .completed:
      notified = [lead, partner]
      text = "\(lead) completed engagement \(number) of ticket \(ticket)."
    case .entryAdded, .entryEdited, .entryDeleted:
      return
    }
    for organisation in notified {
      notifications.append(
        PartnerNotification(
          position: position, ticket: ticket, rule: .outsourcingNotifiesPrimaryContact,
          partner: organisation, to: "primary-contact", entry: nil, text: text))
    }
  }

  private mutating func updateVersion(_ side: Side, _ body: (inout TicketVersion) -> Void) {
    switch side {
    case .lead: body(&leadVersion)
    case .engagement(let n):
      if engagements[n - 1].version == nil { engagements[n - 1].version = TicketVersion() }
      body(&engagements[n - 1].version!)
    }
  }
}
