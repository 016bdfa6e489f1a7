// The sync rules of DOMAIN.md, each decided in one place. A change is decided by
// `decide(slot:side:event:at:)` following "How one change is decided" step by step; the
// status events release, drop and bundle in `perform(_:event:at:)`.

extension TicketProjection {
  mutating func perform(_ plan: Plan, event: TicketEvent, at position: Int64) {
    switch plan {
    case .outsource(let lead):
      guard case .outsourced(let o) = event.payload else {
        preconditionFailure("an outsourcing plan for \(event.type)")
      }
      self.lead = lead
      let number = engagements.count + 1
      var engagement = EngagementState(number: number, partner: o.partner, resource: o.resource, rate: o.rate)
      engagement.partnerNumber = partnerNumber(o.partner)
      engagements.append(engagement)
      notifyStatus(.outsourced, engagement: number, at: position)
    case .status(let type, let number):
      performStatus(type, engagement: number, at: position)
    case .entry(let side, let slot):
      if lead == nil { lead = event.by }
      applyEntryChange(event.payload, slot: slot, side: side, by: event.by, at: position)
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
      engagements[index].frozen = SlotSet(engagements[index].version?.entries.slots ?? [])
      notifyStatus(type, engagement: number, at: position)
    case .completionRejected:
      engagements[index].status = .inProgress
      engagements[index].frozen = SlotSet()
      notifyStatus(type, engagement: number, at: position)
      releaseHeldChanges(engagement: number, at: position)
    case .completionApproved, .completed:
      engagements[index].status = .complete
      engagements[index].frozen = SlotSet()
      notifyStatus(type, engagement: number, at: position)
      dropHeldChanges(engagement: number, event: type, at: position)
      bundleTime(engagement: number, event: type, at: position)
    case .outsourced, .entryAdded, .entryEdited, .entryDeleted:
      break
    }
  }

  // MARK: Entry changes

  /// Applies the entry event whose payload is `payload` to `side`'s version: a new entry, or the
  /// one in `existing` (see ``Plan/entry(side:slot:)``).
  private mutating func applyEntryChange(
    _ payload: EventPayload, slot existing: Int?, side: Side, by: String, at position: Int64
  ) {
    let slot: Int
    switch payload {
    case .entryAdded(let id, let content):
      let content = content.withDefaults()
      slot = records.add(EntryRecord(id: id, owner: by, home: side, content: content))
      if side == .lead {
        if leadEntryOrder.isEmpty { leadEntryOrder.reserveCapacity(Self.initialCapacity) }
        leadEntryOrder.append(slot)
      }
      updateVersion(side) {
        $0.append(
          VersionEntry(
            slot: Int32(slot), isCopy: false, severed: false, content: content, convertedFrom: nil, system: false,
            sourceEngagement: nil))
      }
    case .entryEdited(_, let changes):
      slot = existing!
      if records[slot: slot].home == side {
        records[slot: slot].content = records[slot: slot].content.applying(changes)
        let content = records[slot: slot].content
        updateVersion(side) { $0.entries.update(slot) { $0.content = content } }
      } else {
        updateVersion(side) { $0.entries.update(slot) { $0.content = $0.content.applying(changes) } }
      }
    case .entryDeleted:
      slot = existing!
      if records[slot: slot].home == side { records[slot: slot].deleted = true }
      updateVersion(side) { $0.entries.removeValue(forSlot: slot) }
    default:
      preconditionFailure("an entry plan for \(payload.type)")
    }
    if case .engagement(let n) = side, n == engagements.count, engagements[n - 1].status == .accepted {
      engagements[n - 1].status = .inProgress
    }
    if let decision = decide(slot: slot, side: side, event: payload.type, at: position) {
      note(decision)
    }
    notifyTimeLogged(slot: slot, side: side, event: payload.type, at: position)
  }

  /// `subcontractor-time-notifies-resource`: a service partner adds a time entry while its
  /// engagement is the current one and linked, whatever the change's decision; after that
  /// decision's own notification.
  private mutating func notifyTimeLogged(slot: Int, side: Side, event: EventType, at position: Int64) {
    guard event == .entryAdded, case .engagement(let n) = side, n == engagements.count,
      records[slot: slot].content.kind == .time
    else { return }
    switch engagements[n - 1].status {
    case .accepted, .inProgress, .waitingApproval: break
    default: return
    }
    guard keepsNotification() else { return }
    let partner = engagements[n - 1].partnerNumber
    notify(
      NotificationRecord(
        position: position, rule: .subcontractorTimeNotifiesResource, partner: leadNumber,
        recipient: .resource(engagement: Int32(n)), entry: Int32(slot), message: .timeLogged(by: partner)))
  }

  /// Decides one change, by the partner whose version `side` is: the steps of "How one change is
  /// decided". Returns the decision to note, or `nil` when none is due.
  private mutating func decide(slot: Int, side: Side, event: EventType, at position: Int64) -> DecisionRecord? {
    // The record's fields are read in place: a copy of the record would retain and release each
    // of its strings.
    let home = records[slot: slot].home
    // The content is taken once (one reference to its box): reading it through the record again
    // for the filter below would keep a read accessor open across that call, which allocates.
    let content = records[slot: slot].content
    guard hasLead, let kind = content.kind else { return nil }
    let foreign = home != side
    // The partners by number: an entry's owner is the partner of its home version.
    let number: Int
    let to: Int32
    switch (foreign, side, home) {
    case (true, .lead, .engagement(let k)):
      number = k
      to = partnerNumber(of: home)
    case (_, .engagement(let k), _):
      number = k
      to = foreign ? partnerNumber(of: home) : leadNumber
    default:
      // The lead's own entry: the counterpart is the current engagement's partner, once accepted.
      guard let current = engagements.last, current.status.hasVersion else { return nil }
      number = current.number
      to = current.partnerNumber
    }
    let from = partnerNumber(of: side)
    // The counterpart's version: the owner's for a foreign change, else the other side.
    let target: Side = foreign ? home : (side == .lead ? .engagement(number) : .lead)
    let copyBefore = hasEntry(slot, in: target)
    let owner = partnerNumber(of: home)
    func decided(_ outcome: SyncOutcome, _ rule: RuleID, transforms: [RuleID] = []) -> DecisionRecord {
      DecisionRecord(
        position: position, heldAt: .min, engagement: Int32(number), entry: Int32(slot), by: from, to: to,
        event: event, kind: kind, outcome: outcome, rule: rule,
        transforms: DecisionRecord.transformBits(transforms), owner: owner, copyBefore: copyBefore)
    }
    // The engagement's fields are read one by one: a copy of it held across the changes below
    // would make every one of them copy the engagement's collections.
    let status = engagements[number - 1].status
    // 1. sync-ended
    if status == .complete || number != engagements.count {
      return decided(.notSynced, .syncEnded)
    }
    // 2. foreign-edit-severs / foreign-delete-severs
    if foreign {
      var decision = decided(.notSynced, event == .entryDeleted ? .foreignDeleteSevers : .foreignEditSevers)
      decision.severedEarlier = !engagements[number - 1].severed.insert(slot)
      if event != .entryDeleted {
        updateVersion(side) { $0.entries.update(slot) { $0.severed = true } }
      }
      return decision
    }
    // 3. severed-link
    if engagements[number - 1].severed.contains(slot) {
      var decision = decided(.notSynced, .severedLink)
      decision.severedEarlier = true
      return decision
    }
    let filter = rules.failingFilter(content, ownedByLead: home == .lead)
    let hasHeld = engagements[number - 1].held.contains { $0.slot == slot && $0.to == to }
    // 4. a filter keeps it home, and nothing of it is over there
    if let filter, !copyBefore, !hasHeld {
      return decided(.notSynced, filter)
    }
    // 5. suspended-waiting-approval
    if status == .waitingApproval {
      engagements[number - 1].held.append(
        HeldChange(position: position, slot: slot, kind: kind, by: from, to: to))
      return decided(.held, .suspendedWaitingApproval)
    }
    // 6. a filter now fails but a copy exists: withdraw it
    if let filter {
      updateVersion(target) { $0.entries.removeValue(forSlot: slot) }
      return decided(.notSynced, filter)
    }
    // 7. own-change-syncs
    return decided(.synced, .ownChangeSyncs, transforms: bringCopyUpToDate(slot, engagement: number, in: target) ?? [])
  }

  /// Makes `target`'s copy of the entry in `slot` match the entry's latest state, filters applied.
  ///
  /// Returns the transforms that shaped the copy (`nil` when no copy is left).
  private mutating func bringCopyUpToDate(_ slot: Int, engagement number: Int, in target: Side) -> [RuleID]? {
    let ownedByLead = records[slot: slot].home == .lead
    if records[slot: slot].deleted || rules.failingFilter(records[slot: slot].content, ownedByLead: ownedByLead) != nil
    {
      updateVersion(target) { $0.entries.removeValue(forSlot: slot) }
      return nil
    }
    let copy = rules.copy(of: records[slot: slot].content, ownedByLead: ownedByLead)
    if hasEntry(slot, in: target) {
      updateVersion(target) {
        $0.entries.update(slot) {
          $0.content = copy.content
          $0.convertedFrom = copy.convertedFrom
        }
      }
    } else {
      updateVersion(target) {
        $0.append(
          VersionEntry(
            slot: Int32(slot), isCopy: true, severed: false, content: copy.content,
            convertedFrom: copy.convertedFrom, system: false, sourceEngagement: target == .lead ? number : nil))
      }
    }
    return copy.transforms
  }

  // MARK: Status-driven rules

  /// `copied-at-acceptance`: the lead's entries that exist, in creation order.
  private mutating func copyLeadEntriesAtAcceptance(engagement number: Int, at position: Int64) {
    guard rules.copyAtAcceptance, hasLead else { return }
    let partner = engagements[number - 1].partnerNumber
    for slot in leadEntryOrder {
      let record = records[slot: slot]
      guard !record.deleted, let kind = record.content.kind else { continue }
      var decision = DecisionRecord(
        position: position, heldAt: .min, engagement: Int32(number), entry: Int32(slot), by: leadNumber,
        to: partner, event: .accepted, kind: kind, outcome: .notSynced, rule: .copiedAtAcceptance, transforms: 0,
        owner: leadNumber, copyBefore: false)
      if let filter = rules.failingFilter(record.content, ownedByLead: true) {
        decision.rule = filter
      } else {
        let transforms = bringCopyUpToDate(slot, engagement: number, in: .engagement(number))
        decision.outcome = .synced
        decision.transforms = DecisionRecord.transformBits(transforms ?? [])
      }
      note(decision)
    }
  }

  /// `released-on-rejection`: each held change, in the order it was held: `severed-link` when
  /// its link was severed meanwhile, the filter's rule when the entry's latest state fails one
  /// (a copy the counterpart held is withdrawn), else released with the entry's latest state.
  private mutating func releaseHeldChanges(engagement number: Int, at position: Int64) {
    let held = engagements[number - 1].held
    engagements[number - 1].held = []
    func target(of change: HeldChange) -> Side { change.to == leadNumber ? .lead : .engagement(number) }
    // What the counterparts held before the position: the first of an entry's held changes may
    // already bring its copy to the latest state.
    let copiesBefore = held.map { hasEntry($0.slot, in: target(of: $0)) }
    for (change, copyBefore) in zip(held, copiesBefore) {
      let target = target(of: change)
      let home = records[slot: change.slot].home
      var decision = DecisionRecord(
        position: position, heldAt: change.position, engagement: Int32(number), entry: Int32(change.slot),
        by: change.by, to: change.to, event: .completionRejected, kind: change.kind, outcome: .released,
        rule: .releasedOnRejection, transforms: 0, owner: partnerNumber(of: home), copyBefore: copyBefore)
      if engagements[number - 1].severed.contains(change.slot) {
        decision.outcome = .notSynced
        decision.rule = .severedLink
        decision.severedEarlier = true
      } else if let filter = rules.failingFilter(records[slot: change.slot].content, ownedByLead: home == .lead) {
        decision.outcome = .notSynced
        decision.rule = filter
        updateVersion(target) { $0.entries.removeValue(forSlot: change.slot) }
      } else {
        let transforms = bringCopyUpToDate(change.slot, engagement: number, in: target)
        decision.transforms = DecisionRecord.transformBits(transforms ?? [])
      }
      note(decision)
    }
  }

  /// `dropped-at-completion`: each held change, in the order it was held.
  private mutating func dropHeldChanges(engagement number: Int, event: EventType, at position: Int64) {
    let held = engagements[number - 1].held
    engagements[number - 1].held = []
    for change in held {
      let target: Side = change.to == leadNumber ? .lead : .engagement(number)
      note(
        DecisionRecord(
          position: position, heldAt: change.position, engagement: Int32(number), entry: Int32(change.slot),
          by: change.by, to: change.to, event: event, kind: change.kind, outcome: .dropped,
          rule: .droppedAtCompletion, transforms: 0, owner: partnerNumber(of: records[slot: change.slot].home),
          copyBefore: hasEntry(change.slot, in: target)))
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
    let slot = records.add(EntryRecord(id: id, owner: lead, home: .lead, content: content))
    leadEntryOrder.append(slot)
    leadVersion.append(
      VersionEntry(
        slot: Int32(slot), isCopy: false, severed: false, content: content, convertedFrom: nil, system: true,
        sourceEngagement: nil))
    note(
      DecisionRecord(
        position: position, heldAt: .min, engagement: Int32(number), entry: Int32(slot),
        by: engagement.partnerNumber, to: leadNumber, event: event, kind: .charge, outcome: .synced,
        rule: .timeBundledAtCompletion, transforms: 0, owner: leadNumber, copyBefore: false))
  }

  // MARK: Decisions and notifications

  /// Records a decision, with what it left in the counterpart's version, and the
  /// `synced-change-notifies-partner` it sends: only a decision that changed the counterpart's
  /// version notifies it.
  private mutating func note(_ decision: consuming DecisionRecord) {
    let target: Side = decision.to == leadNumber ? .lead : .engagement(Int(decision.engagement))
    decision.copyAfter = hasEntry(Int(decision.entry), in: target)
    decision.entryExists = !records[slot: Int(decision.entry)].deleted
    if decision.rule == .ownChangeSyncs || decision.outcome == .released,
      decision.copyBefore || decision.copyAfter, keepsNotification()
    {
      notify(
        NotificationRecord(
          position: decision.position, rule: .syncedChangeNotifiesPartner, partner: decision.to,
          recipient: .ticket, entry: decision.entry,
          message: .syncedChange(
            by: decision.by, kind: decision.kind, event: decision.event, released: decision.outcome == .released,
            copy: CopyChange(before: decision.copyBefore, after: decision.copyAfter))))
    }
    guard keepsDecisions else {
      discardedDecisions += 1
      return
    }
    if decisionRecords.isEmpty { decisionRecords.reserveCapacity(Self.initialCapacity) }
    decisionRecords.append(decision)
  }

  /// Whether a notification about to be sent is kept (and so must be made): when the projection
  /// only counts (see `keepsDecisions`), it is counted here instead.
  private mutating func keepsNotification() -> Bool {
    if keepsDecisions { return true }
    discardedNotifications += 1
    return false
  }

  /// Sends a notification; see `keepsNotification()`.
  private mutating func notify(_ notification: NotificationRecord) {
    if notificationRecords.isEmpty { notificationRecords.reserveCapacity(Self.initialCapacity) }
    notificationRecords.append(notification)
  }

  /// The room a projection's lists (decisions, notifications, lead entries, each version's
  /// entries) start with: a ticket's history takes dozens of each, and a list that starts with
  /// room for most tickets' whole history is never copied to grow.
  static let initialCapacity = 48

  /// `outsourcing-notifies-primary-contact`: the other partner, or both (lead first) at the end.
  private mutating func notifyStatus(_ type: EventType, engagement number: Int, at position: Int64) {
    guard hasLead else { return }
    let lead = leadNumber
    let partner = engagements[number - 1].partnerNumber
    func notifyContact(of organisation: Int32) {
      guard keepsNotification() else { return }
      notify(
        NotificationRecord(
          position: position, rule: .outsourcingNotifiesPrimaryContact, partner: organisation,
          recipient: .primaryContact, entry: -1,
          message: .status(type, lead: lead, partner: partner, engagement: Int32(number))))
    }
    switch type {
    case .outsourced, .cancelled, .completionRejected: notifyContact(of: partner)
    case .declined, .accepted, .completionRequested: notifyContact(of: lead)
    case .completionApproved, .completed:
      notifyContact(of: lead)
      notifyContact(of: partner)
    case .entryAdded, .entryEdited, .entryDeleted: return
    }
  }

  /// Whether `side`'s version holds the entry in `slot`.
  func hasEntry(_ slot: Int, in side: Side) -> Bool {
    switch side {
    case .lead: leadVersion.entries.contains(slot)
    case .engagement(let n): engagements[n - 1].holds(slot)
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
