import OrderedCollections

// Reads scoped to one partner: what a partner may know of a ticket's history, decided here once
// and used by every scoped read of the engine (audit, notifications, export, subscriptions).
//
// A partner may know a ticket when it is the lead or was ever offered it (an `outsourced` event
// named it, whatever became of the offer). Of that ticket it may know its own versions, the
// decisions about changes it made itself, and the decisions that changed one of its versions;
// never a decision about another partner's change that left its versions as they were (a held,
// dropped, filtered or severed change), and nothing of another service partner's engagement.

extension SyncDecision {
  /// Whether the decision changed the version of its counterpart (`to`): it left a copy there (a
  /// new one or one brought up to date), or removed one that was there.
  ///
  /// `held`, `dropped` and most `not-synced` decisions leave `to`'s version as it was; a
  /// `not-synced` decision that withdrew a copy (a shared entry made internal) changed it.
  public var changedCounterpartVersion: Bool {
    switch outcome {
    case .synced, .released: copyBefore || copyAfter
    case .notSynced: copyBefore != copyAfter
    case .held, .dropped: false
    }
  }

  /// Whether `partner` may know of this decision: the one rule of scoped reads.
  ///
  /// It may when it made the change decided (`by` is `partner`; the completion bundle, whose `by`
  /// is the service partner whose time it bundles, is an entry of the lead's version and not that
  /// partner's change), or when the decision changed its version (`to` is `partner` and
  /// ``changedCounterpartVersion``). Such a decision only names entries that `partner`'s own
  /// versions held, the lead and `partner` itself, and `partner`'s own engagement.
  public func isVisible(to partner: String) -> Bool {
    if by == partner, rule != .timeBundledAtCompletion { return true }
    return to == partner && changedCounterpartVersion
  }
}

extension PartnerNotification {
  /// The notification as `partner` may read it, or `nil` when it is not addressed to `partner`.
  ///
  /// A `subcontractor-time-notifies-resource` notification goes to the lead whatever becomes of
  /// the time entry (DOMAIN.md: it cannot be turned off). When the lead's version did not hold the
  /// entry just after it was added (the change was held while the completion waited for
  /// approval, and may later be dropped), the scoped notification keeps the fact that time was
  /// logged but names no entry: its `entry` is `nil` and its text names none.
  public func scoped(to partner: String) -> PartnerNotification? {
    guard self.partner == partner else { return nil }
    guard case .timeLogged(let by, reached: false) = message else { return self }
    var scoped = self
    scoped.entry = nil
    scoped.message = .written("\(by) logged a time entry on ticket \(ticket).")
    return scoped
  }

  /// The notification as its recipient may read it (``scoped(to:)`` for its own partner): what
  /// the stored outbox holds and delivers. It differs from the log owner's only where the owner
  /// may know more, such as the id of a time entry that did not reach the recipient's version.
  public var delivered: PartnerNotification { scoped(to: partner) ?? self }
}

extension TicketEvent {
  /// Whether a scoped export or subscription of `partner` carries this event: the events a
  /// partner recorded itself (`by` is `partner`). The rules accept an event only from the lead or
  /// from a partner engaged on the ticket, so these are all on tickets `partner` may know.
  public func isVisible(to partner: String) -> Bool { by == partner }
}

extension TicketProjection {
  /// Whether `partner` may know the ticket (so far): it is the lead, or the ticket was outsourced
  /// to it at least once, whatever became of the offer (it was notified of it).
  ///
  /// A scoped read of a ticket that `partner` may not know fails exactly as one of a ticket that
  /// does not exist.
  public func isKnown(to partner: String) -> Bool {
    partner == lead || engagements.contains { $0.partner == partner }
  }

  /// The decisions `partner` may know of (``SyncDecision/isVisible(to:)``), in order.
  public func decisions(visibleTo partner: String) -> [SyncDecision] {
    decisions.filter { $0.isVisible(to: partner) }
  }

  /// The notifications addressed to `partner`, as it may read them
  /// (``PartnerNotification/scoped(to:)``), in order.
  public func notifications(for partner: String) -> [PartnerNotification] {
    notifications.compactMap { $0.scoped(to: partner) }
  }

  /// Whether `partner` may know of entry `id`: it created it, or a decision it may know of is
  /// about it (every copy that ever reached one of its versions came with such a decision).
  public func knowsEntry(_ id: String, partner: String) -> Bool {
    if let record = records[id], record.owner == partner { return true }
    return decisions.contains { $0.entry == id && $0.isVisible(to: partner) }
  }

  /// A caption for each entry in `partner`'s versions now (the lead's version, or each of its
  /// engagements' versions, the latest last), by id, as that version holds it: its title, else
  /// its attachment name, else its text. ``entryTitles`` for the log's owner.
  public func entryTitles(seenBy partner: String) -> [String: String] {
    let versions =
      partner == lead ? [leadVersion] : engagements.filter { $0.partner == partner }.compactMap(\.version)
    var titles: [String: String] = [:]
    for version in versions {
      titles.merge(version.compactMap { id, entry in entry.content.caption.map { (id, $0) } }) { _, later in later }
    }
    return titles
  }

  /// The engagements `partner` may know of: every one for the lead, its own for a service partner.
  public func engagementSummaries(seenBy partner: String) -> [EngagementSummary] {
    engagementSummaries.filter { partner == lead || $0.partner == partner }
  }
}

extension TicketProjection {
  /// Folds `event` at `position` as ``apply(_:)`` does, and tells whether `partner` may know of it:
  /// it recorded the event, or the event changed what `partner` may know of the ticket (its
  /// view, the decisions it may know of, the notifications addressed to it).
  ///
  /// A read scoped to `partner` as of a time stands at such an event, so that the position it
  /// answers with never is the position of an event `partner` may not know of.
  /// - Throws: ``RefusedEvent`` as ``apply(_:)`` does.
  package mutating func apply(_ event: TicketEvent, position: Int64, isKnownTo partner: String) throws(RefusedEvent)
    -> Bool
  {
    func seen() -> TicketView? {
      guard var view = try? view(of: partner) else { return nil }
      view.position = 0
      return view
    }
    let (before, decided, notified) = (seen(), decisions.count, notifications.count)
    try apply(event, position: position)
    return event.by == partner
      || decisions[decided...].contains { $0.isVisible(to: partner) }
      || notifications[notified...].contains { $0.partner == partner }
      || seen() != before
  }
}
