import OrderedCollections

// The sync rules of DOMAIN.md, each decided in one place. A change is decided by
// `decide(_:side:event:at:)` following "How one change is decided" step by step; the status
// events release, drop and bundle in `perform(_:event:at:)`.

extension TicketProjection {
  mutating func perform(_ plan: Plan, event: TicketEvent, at position: Int64) {
    switch plan {
    case .outsource(let lead):
      guard case .outsourced(let o) = event.payload else {
        preconditionFailure("an outsourcing plan for \(event.type)")
      }
      self.lead = lead
      let number = engagements.count + 1
      engagements.append(EngagementState(number: number, partner: o.partner, resource: o.resource, rate: o.rate))
      notifyStatus(.outsourced, engagement: number, at: position)
    case .status(let type, let number):
      performStatus(type, engagement: number, at: position)
    case .entry(let side):
      if lead == nil { lead = event.by }
      applyEntryChange(event.payload, side: side, by: event.by, at: position)
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
      engagements[index].version = .withRoom()
      notifyStatus(type, engagement: number, at: position)
      copyLeadEntriesAtAcceptance(engagement: number, at: position)
    case .completionRequested:
      engagements[index].status = .waitingApproval
      engagements[index].frozen = Set(engagements[index].version?.keys ?? [])
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

  /// Applies the entry event whose payload is `payload` to `side`'s version.
  private mutating func applyEntryChange(_ payload: EventPayload, side: Side, by: String, at position: Int64) {
    let id: String
    // Where the entry's record is in `records`: found once, and passed on.
    let record: Int
    switch payload {
    case .entryAdded(let entry, let content):
      id = entry
      let content = content.withDefaults()
      if records.isEmpty {
        records.reserveCapacity(TicketVersion.startingRoom)
        leadVersion.reserveCapacity(TicketVersion.startingRoom)
      }
      // The id is new (checked): the record goes at the end.
      records.updateValue(EntryRecord(owner: by, home: side, content: content), forKey: id)
      record = records.count - 1
      updateVersion(side) { $0.updateValue(VersionEntry(isCopy: false, content: content), forKey: id) }
    case .entryEdited(let entry, let changes):
      id = entry
      record = records.index(forKey: id)!
      if records.values[record].home == side {
        records.values[record].content.apply(changes)
        let content = records.values[record].content
        updateVersion(side) { $0.values[$0.index(forKey: id)!].content = content }
      } else {
        updateVersion(side) { $0.values[$0.index(forKey: id)!].content.apply(changes) }
      }
    case .entryDeleted(let entry):
      id = entry
      record = records.index(forKey: id)!
      if records.values[record].home == side { records.values[record].deleted = true }
      updateVersion(side) { $0.removeValue(forKey: id) }
    default:
      preconditionFailure("an entry plan for \(payload.type)")
    }
    if case .engagement(let n) = side, n == engagements.count, engagements[n - 1].status == .accepted {
      engagements[n - 1].status = .inProgress
    }
    if let decision = decide(record, side: side, event: payload.type, at: position) {
      note(decision, record: record)
    }
    notifyTimeLogged(record, side: side, event: payload.type, at: position)
  }

  /// `subcontractor-time-notifies-resource`: a service partner adds a time entry while its
  /// engagement is the current one and linked, whatever the change's decision; after that
  /// decision's own notification.
  private mutating func notifyTimeLogged(_ record: Int, side: Side, event: EventType, at position: Int64) {
    guard event == .entryAdded, case .engagement(let n) = side, n == engagements.count,
      let lead, records.values[record].content.kind == .time
    else { return }
    switch engagements[n - 1].status {
    case .accepted, .inProgress, .waitingApproval: break
    default: return
    }
    notify(
      PartnerNotification(
        position: position, ticket: ticket, rule: .subcontractorTimeNotifiesResource, partner: lead,
        to: engagements[n - 1].resource ?? "assigned-resource", entry: records.keys[record],
        message: .timeLogged(by: engagements[n - 1].partner, reached: hasEntry(records.keys[record], in: .lead))))
  }

  /// Decides one change to the entry whose record is `records.values[record]`, by the partner
  /// whose version `side` is: the steps of "How one change is decided". Returns the decision to
  /// note, or `nil` when none is due.
  private mutating func decide(_ record: Int, side: Side, event: EventType, at position: Int64) -> SyncDecision? {
    guard let lead, let kind = records.values[record].content.kind else { return nil }
    let id = records.keys[record]
    let home = records.values[record].home
    let foreign = home != side
    let number: Int
    let to: String
    // An entry's owner, as decisions name it, is the partner of its home version.
    let owner = partner(of: home)
    switch (foreign, side, home) {
    case (true, .lead, .engagement(let k)):
      number = k
      to = owner
    case (_, .engagement(let k), _):
      number = k
      to = foreign ? owner : lead
    default:
      // The lead's own entry: the counterpart is the current engagement's partner, once accepted.
      guard let current = engagements.indices.last, engagements[current].status.hasVersion else { return nil }
      number = current + 1
      to = engagements[current].partner
    }
    let from = partner(of: side)
    // The counterpart's version: the owner's for a foreign change, else the other side.
    let target: Side = foreign ? home : (side == .lead ? .engagement(number) : .lead)
    let copyBefore = hasEntry(id, in: target)
    func decided(_ outcome: SyncOutcome, _ rule: RuleID, transforms: [RuleID] = []) -> SyncDecision {
      var decision = SyncDecision(
        position: position, event: event, entry: id, kind: kind, by: from, to: to, outcome: outcome, rule: rule,
        transforms: transforms, engagement: number)
      decision.owner = owner
      decision.copyBefore = copyBefore
      // Unless the step changes the counterpart's version, it holds a copy after as before.
      decision.copyAfter = copyBefore
      return decision
    }
    let status = engagements[number - 1].status
    // 1. sync-ended
    if status == .complete || number != engagements.count {
      return decided(.notSynced, .syncEnded)
    }
    // 2. foreign-edit-severs / foreign-delete-severs
    if foreign {
      var decision = decided(.notSynced, event == .entryDeleted ? .foreignDeleteSevers : .foreignEditSevers)
      decision.severedEarlier = !engagements[number - 1].severed.insert(id).inserted
      if event != .entryDeleted {
        updateVersion(side) { $0.values[$0.index(forKey: id)!].severed = true }
      }
      return decision
    }
    // 3. severed-link
    if !engagements[number - 1].severed.isEmpty, engagements[number - 1].severed.contains(id) {
      var decision = decided(.notSynced, .severedLink)
      decision.severedEarlier = true
      return decision
    }
    let filter = rules.failingFilter(records.values[record].content, ownedByLead: home == .lead)
    let hasHeld = engagements[number - 1].held.contains { $0.entry == id && $0.to == to }
    // 4. a filter keeps it home, and nothing of it is over there
    if let filter, !copyBefore, !hasHeld {
      return decided(.notSynced, filter)
    }
    // 5. suspended-waiting-approval
    if status == .waitingApproval {
      engagements[number - 1].held.append(HeldChange(position: position, entry: id, kind: kind, by: from, to: to))
      return decided(.held, .suspendedWaitingApproval)
    }
    // 6. a filter now fails but a copy exists: withdraw it
    if let filter {
      updateVersion(target) { $0.removeValue(forKey: id) }
      var decision = decided(.notSynced, filter)
      decision.copyAfter = false
      return decision
    }
    // 7. own-change-syncs
    let transforms = bringCopyUpToDate(record, engagement: number, in: target)
    var decision = decided(.synced, .ownChangeSyncs, transforms: transforms ?? [])
    decision.copyAfter = transforms != nil
    return decision
  }

  /// Makes `target`'s copy of the entry whose record is `records.values[record]` match the
  /// entry's latest state, filters applied.
  ///
  /// Returns the transforms that shaped the copy (`nil` when no copy is left).
  private mutating func bringCopyUpToDate(_ record: Int, engagement number: Int, in target: Side) -> [RuleID]? {
    let id = records.keys[record]
    let ownedByLead = records.values[record].home == .lead
    var copy = records.values[record].content
    if records.values[record].deleted || rules.failingFilter(copy, ownedByLead: ownedByLead) != nil {
      updateVersion(target) { $0.removeValue(forKey: id) }
      return nil
    }
    let shaped = rules.shapeCopy(&copy, ownedByLead: ownedByLead)
    updateVersion(target) { version in
      // An existing copy is updated where it is; a new one goes at the end, then is filled in alike.
      version.updateValue(
        forKey: id,
        default: VersionEntry(isCopy: true, content: EntryContent(), sourceEngagement: target == .lead ? number : nil)
      ) { entry in
        swap(&entry.content, &copy)
        entry.convertedFrom = shaped.convertedFrom
      }
    }
    return shaped.transforms
  }

  // MARK: Status-driven rules

  /// `copied-at-acceptance`: the lead's entries that exist, in creation order.
  private mutating func copyLeadEntriesAtAcceptance(engagement number: Int, at position: Int64) {
    guard rules.copyAtAcceptance, let lead else { return }
    let partner = engagements[number - 1].partner
    for (index, (id, record)) in records.enumerated() where record.home == .lead && !record.deleted {
      guard let kind = record.content.kind else { continue }
      var decision = SyncDecision(
        position: position, event: .accepted, entry: id, kind: kind, by: lead, to: partner, outcome: .notSynced,
        rule: .copiedAtAcceptance, engagement: number)
      if let filter = rules.failingFilter(record.content, ownedByLead: true) {
        decision.rule = filter
      } else {
        let transforms = bringCopyUpToDate(index, engagement: number, in: .engagement(number))
        decision.transforms = transforms ?? []
        decision.outcome = .synced
        decision.copyAfter = transforms != nil
      }
      note(decision, record: index)
    }
  }

  /// `released-on-rejection`: each held change, in the order it was held: `severed-link` when
  /// its link was severed meanwhile, the filter's rule when the entry's latest state fails one
  /// (a copy the counterpart held is withdrawn), else released with the entry's latest state.
  private mutating func releaseHeldChanges(engagement number: Int, at position: Int64) {
    let held = engagements[number - 1].held
    engagements[number - 1].held = []
    // What the counterparts held before the position: the first of an entry's held changes may
    // already bring its copy to the latest state.
    let copiesBefore = held.map { hasEntry($0.entry, in: target(of: $0, engagement: number)) }
    for (change, copyBefore) in zip(held, copiesBefore) {
      let target = target(of: change, engagement: number)
      let index = records.index(forKey: change.entry)!
      let record = records.values[index]
      var decision = SyncDecision(
        position: position, event: .completionRejected, entry: change.entry, kind: change.kind, by: change.by,
        to: change.to, outcome: .released, rule: .releasedOnRejection, heldAt: change.position, engagement: number)
      decision.owner = partner(of: record.home)
      decision.copyBefore = copyBefore
      if engagements[number - 1].severed.contains(change.entry) {
        decision.outcome = .notSynced
        decision.rule = .severedLink
        decision.severedEarlier = true
        decision.copyAfter = hasEntry(change.entry, in: target)
      } else if let filter = rules.failingFilter(record.content, ownedByLead: record.home == .lead) {
        decision.outcome = .notSynced
        decision.rule = filter
        updateVersion(target) { $0.removeValue(forKey: change.entry) }
      } else {
        let transforms = bringCopyUpToDate(index, engagement: number, in: target)
        decision.transforms = transforms ?? []
        decision.copyAfter = transforms != nil
      }
      note(decision, record: index)
    }
  }

  /// `dropped-at-completion`: each held change, in the order it was held.
  private mutating func dropHeldChanges(engagement number: Int, event: EventType, at position: Int64) {
    let held = engagements[number - 1].held
    engagements[number - 1].held = []
    for change in held {
      var decision = SyncDecision(
        position: position, event: event, entry: change.entry, kind: change.kind, by: change.by, to: change.to,
        outcome: .dropped, rule: .droppedAtCompletion, heldAt: change.position, engagement: number)
      let record = records.index(forKey: change.entry)!
      decision.owner = partner(of: records.values[record].home)
      decision.copyBefore = hasEntry(change.entry, in: target(of: change, engagement: number))
      decision.copyAfter = decision.copyBefore
      note(decision, record: record)
    }
  }

  /// `time-bundled-at-completion`: one non-billable charge for the partner's time in the lead's version.
  private mutating func bundleTime(engagement number: Int, event: EventType, at position: Int64) {
    guard rules.bundleTimeAtCompletion, let lead else { return }
    let engagement = engagements[number - 1]
    let times = leadVersion.values.filter {
      $0.isCopy && $0.sourceEngagement == number && $0.content.kind == .time
    }
    guard !times.isEmpty else { return }
    let hours = times.reduce(0.0) { $0 + ($1.content.hours ?? 0) }
    let id = Identifier.bundleID(engagement: number)
    let content = EntryContent(
      kind: .charge, hours: hours, amount: engagement.rate.map { hours * $0 }, billable: false)
    let record = records.updateValue(
      EntryRecord(owner: lead, home: .lead, content: content), forKey: id, insertingAt: records.count
    ).index
    leadVersion[id] = VersionEntry(isCopy: false, content: content, system: true)
    var decision = SyncDecision(
      position: position, event: event, entry: id, kind: .charge, by: engagement.partner, to: lead,
      outcome: .synced, rule: .timeBundledAtCompletion, engagement: number)
    decision.owner = lead
    decision.copyAfter = true
    note(decision, record: record)
  }

  // MARK: Decisions and notifications

  /// Records a decision and the `synced-change-notifies-partner` it sends: only a decision that
  /// changed the counterpart's version notifies it. The decision already says whether the
  /// counterpart held a copy before and after it; `record` is where its entry is in `records`.
  private mutating func note(_ decision: consuming SyncDecision, record: Int) {
    decision.entryExists = !records.values[record].deleted
    if decision.rule == .ownChangeSyncs || decision.outcome == .released,
      decision.copyBefore || decision.copyAfter
    {
      notify(
        PartnerNotification(
          position: decision.position, ticket: ticket, rule: .syncedChangeNotifiesPartner, partner: decision.to,
          to: "ticket", entry: decision.entry,
          message: .syncedChange(
            by: decision.by, kind: decision.kind, event: decision.event, released: decision.outcome == .released,
            copy: decision.copyChange)))
    }
    if decisions.isEmpty { decisions.reserveCapacity(16) }
    decisions.append(decision)
  }

  /// Sends `notification`. (A ticket's lists hold a dozen or more: they start with room for that.)
  private mutating func notify(_ notification: consuming PartnerNotification) {
    if notifications.isEmpty { notifications.reserveCapacity(16) }
    notifications.append(notification)
  }

  /// `outsourcing-notifies-primary-contact`: the other partner, or both (lead first) at the end.
  private mutating func notifyStatus(_ type: EventType, engagement number: Int, at position: Int64) {
    guard let lead else { return }
    let partner = engagements[number - 1].partner
    let contacts: [String] =
      switch type {
      case .outsourced, .cancelled, .completionRejected: [partner]
      case .declined, .accepted, .completionRequested: [lead]
      case .completionApproved, .completed: [lead, partner]
      case .entryAdded, .entryEdited, .entryDeleted: []
      }
    for contact in contacts {
      notify(
        PartnerNotification(
          position: position, ticket: ticket, rule: .outsourcingNotifiesPrimaryContact, partner: contact,
          to: "primary-contact", entry: nil,
          message: .status(type, lead: lead, partner: partner, engagement: number)))
    }
  }

  /// The partner whose version `side` is.
  private func partner(of side: Side) -> String {
    switch side {
    case .lead: lead ?? ""
    case .engagement(let n): engagements[n - 1].partner
    }
  }

  /// The version a held change was to reach: the lead's, or the engagement's partner's.
  private func target(of change: HeldChange, engagement number: Int) -> Side {
    change.to == lead ? .lead : .engagement(number)
  }

  /// Whether `side`'s version holds entry `id`.
  func hasEntry(_ id: String, in side: Side) -> Bool {
    switch side {
    case .lead: leadVersion.index(forKey: id) != nil
    case .engagement(let n): engagements[n - 1].version?.index(forKey: id) != nil
    }
  }

  private mutating func updateVersion(_ side: Side, _ body: (inout TicketVersion) -> Void) {
    switch side {
    case .lead: body(&leadVersion)
    case .engagement(let n):
      if engagements[n - 1].version == nil { engagements[n - 1].version = .withRoom() }
      body(&engagements[n - 1].version!)
    }
  }
}
