import OrderedCollections

/// A partner's role on a ticket.
public enum PartnerRole: String, Sendable, Hashable, Codable {
  /// The partner that owns the ticket.
  case lead
  /// A partner the ticket was outsourced to.
  case service
}

/// An entry as one partner sees it.
public struct ViewEntry: Sendable, Hashable {
  /// The entry id (a copy carries its original's id).
  public var id: String
  /// The partner that created the entry.
  public var owner: String
  /// `true` for a copy of the other partner's entry, `false` for one's own.
  public var isCopy: Bool
  /// `true` for a copy whose link to its original is severed.
  public var severed: Bool
  /// The entry's kind and fields as this partner sees them.
  public var content: EntryContent
  /// The kind the original had, when a transform changed it (`time` for the lead's time as a note).
  public var convertedFrom: EntryKind?
  /// `true` for a system entry (the completion bundle).
  public var system: Bool
}

/// One partner's version of a ticket at one point of the log.
public struct TicketView: Sendable, Hashable {
  /// The ticket.
  public var ticket: String
  /// The partner whose version this is.
  public var partner: String
  /// The partner's role.
  public var role: PartnerRole
  /// The engagement shown (for the lead, the ticket's latest), or `nil` when there is none.
  public var engagement: Int?
  /// That engagement's status, or `nil` when there is none.
  public var status: OutsourceStatus?
  /// The last log position the view includes.
  public var position: Int64
  /// The entries in this partner's version, in the order they appeared there.
  public var entries: [ViewEntry]
}

/// Why a view cannot be shown.
public enum ViewProblem: Error, Sendable, Hashable {
  /// The partner has no engagement on the ticket (at that point).
  case noEngagement(partner: String, ticket: String)
  /// The engagement asked for does not exist or is not this partner's.
  case noSuchEngagement(partner: String, ticket: String, engagement: Int)
}

extension TicketProjection {
  /// The ticket as `partner` sees it now; a service partner's latest engagement unless
  /// `engagement` names another of its engagements.
  public func view(of partner: String, engagement: Int? = nil) throws(ViewProblem) -> TicketView {
    let isLead = partner == lead
    let shown: EngagementState?
    if let engagement {
      guard engagement >= 1, engagement <= engagements.count, isLead || engagements[engagement - 1].partner == partner
      else { throw .noSuchEngagement(partner: partner, ticket: ticket, engagement: engagement) }
      shown = engagements[engagement - 1]
    } else {
      shown = isLead ? engagements.last : engagements.last { $0.partner == partner }
      if !isLead, shown == nil { throw .noEngagement(partner: partner, ticket: ticket) }
    }
    return TicketView(
      ticket: ticket, partner: partner, role: isLead ? .lead : .service, engagement: shown?.number,
      status: shown?.status, position: position,
      entries: isLead ? viewEntries(leadVersion) : shown?.version.map(viewEntries) ?? [])
  }

  /// The partners that hold a role on the ticket: the lead, then each service partner once.
  public var partners: [String] {
    var seen: [String] = lead.map { [$0] } ?? []
    for e in engagements where !seen.contains(e.partner) { seen.append(e.partner) }
    return seen
  }

  private func viewEntries(_ version: TicketVersion) -> [ViewEntry] {
    version.map { id, entry in
      ViewEntry(
        id: id, owner: records[id]!.owner, isCopy: entry.isCopy, severed: entry.severed, content: entry.content,
        convertedFrom: entry.convertedFrom, system: entry.system)
    }
  }
}
