import Testing

@testable import PartnerSync
@testable import PartnerSyncDomain

/// Isolation over random multi-ticket, multi-partner logs: nothing of a partner ever reaches a
/// partner that is not on the ticket, and nothing of one ticket ever shows in another.
///
/// Each log holds several ``RandomHistory`` tickets, each recast onto its own partners from a pool
/// of seven (so a partner is the lead of one ticket and a service partner or a stranger on
/// others), interleaved at random and recorded through ``PartnerSyncLog`` in random batches.
/// Every entry id is prefixed with its ticket and every text field is tagged
/// `ticket|writer|token`, so each value in a view says where it came from.
@Suite("Isolation between partners and tickets")
struct IsolationPropertyTests {
  static let pool = ["acme", "bolt", "crane", "dyno", "echo", "fjord", "gale"]
  static let logs = 8
  static let ticketsPerLog = 6

  /// One ticket of a log: its name and its recast, tagged events in order.
  struct Plan {
    var ticket: String
    var events: [TicketEvent]
  }

  /// The ticket's roles after some of its events: the lead, every partner it was outsourced to
  /// (engagement n is `engaged[n - 1]`) and those that accepted.
  struct Roles {
    var lead: String?
    var engaged: [String] = []
    var accepted: Set<String> = []

    init(_ events: some Sequence<TicketEvent>) {
      for event in events {
        if lead == nil { lead = event.by }
        if case .outsourced(let o) = event.payload { engaged.append(o.partner) }
        if event.type == .accepted { accepted.insert(event.by) }
      }
    }

    func isOnTicket(_ partner: String) -> Bool { partner == lead || engaged.contains(partner) }
  }

  // MARK: Building a log

  static func plan(ticket: String, seed: UInt64) throws -> Plan {
    var rng = SplitMix64(seed: seed)
    let history = try RandomHistory(seed: seed, length: Int.random(in: 30...70, using: &rng))
    let cast = Dictionary(
      uniqueKeysWithValues: zip(["acme", "bolt", "crane", "zed"], pool.shuffled(using: &rng)))
    return Plan(
      ticket: ticket,
      events: history.ticket.recorded.map { recast($0.event, ticket: ticket, cast: cast) })
  }

  /// The event on `ticket`, by and for the partners `cast` names, with ids and texts marked.
  static func recast(_ event: TicketEvent, ticket: String, cast: [String: String]) -> TicketEvent {
    let by = cast[event.by]!
    func id(_ id: String) -> String { Identifier.bundleNumber(id) == nil ? "\(ticket)-\(id)" : id }
    func tagged(_ content: EntryContent) -> EntryContent {
      var content = content
      content.title = content.title.map { "\(ticket)|\(by)|\($0)" }
      content.text = content.text.map { "\(ticket)|\(by)|\($0)" }
      content.name = content.name.map { "\(ticket)|\(by)|\($0)" }
      content.uri = content.uri.map { "\(ticket)|\(by)|\($0)" }
      return content
    }
    let payload: EventPayload
    switch event.payload {
    case .outsourced(let o):
      payload = .outsourced(Outsourcing(partner: cast[o.partner]!, resource: o.resource, rate: o.rate))
    case .entryAdded(let entry, let content): payload = .entryAdded(entry: id(entry), content: tagged(content))
    case .entryEdited(let entry, let changes): payload = .entryEdited(entry: id(entry), changes: tagged(changes))
    case .entryDeleted(let entry): payload = .entryDeleted(entry: id(entry))
    default: payload = event.payload
    }
    return TicketEvent(ticket: ticket, by: by, at: event.at, payload)
  }

  /// The plans' events interleaved at random, each ticket's own order kept.
  static func interleave(_ plans: [Plan], using rng: inout SplitMix64) -> [TicketEvent] {
    var next = plans.map { _ in 0 }
    var out: [TicketEvent] = []
    while true {
      let open = plans.indices.filter { next[$0] < plans[$0].events.count }
      guard let pick = open.randomElement(using: &rng) else { return out }
      out.append(plans[pick].events[next[pick]])
      next[pick] += 1
    }
  }

  // MARK: Checks

  /// Problems with `partner`'s view of `ticket` at `position`, given the ticket's roles then.
  static func problems(
    in log: PartnerSyncLog, ticket: String, partner: String, at position: Int64, roles: Roles
  ) -> [String] {
    let place = "\(partner) on \(ticket) at \(position)"
    guard roles.isOnTicket(partner) else {
      do {
        let view = try log.view(ticket: ticket, as: partner, at: .position(position))
        return ["\(place): a stranger sees \(view.entries.map(\.id))"]
      } catch {
        return error.code == .unknownPartner ? [] : ["\(place): \(error.code) instead of unknown-partner"]
      }
    }
    let isLead = partner == roles.lead
    let allowed = isLead ? roles.accepted.union([partner]) : [partner, roles.lead!]
    let engagements: [Int?] =
      isLead ? [nil] : [nil] + roles.engaged.indices.filter { roles.engaged[$0] == partner }.map { $0 + 1 }
    var found: [String] = []
    for engagement in engagements {
      let view: TicketView
      do {
        view = try log.view(ticket: ticket, as: partner, at: .position(position), engagement: engagement)
      } catch {
        return ["\(place), engagement \(engagement.map(String.init) ?? "latest"): \(error)"]
      }
      if view.ticket != ticket || view.partner != partner {
        found.append("\(place): the view is of \(view.ticket)/\(view.partner)")
      }
      for entry in view.entries {
        if !entry.id.hasPrefix("\(ticket)-"), Identifier.bundleNumber(entry.id) == nil {
          found.append("\(place): entry \(entry.id) of another ticket")
        }
        if !allowed.contains(entry.owner) { found.append("\(place): \(entry.id) owned by \(entry.owner)") }
        let c = entry.content
        for value in [c.title, c.text, c.name, c.uri].compactMap({ $0 }) {
          let parts = value.split(separator: "|", maxSplits: 2).map(String.init)
          if parts.count != 3, entry.system { continue }
          if parts.count != 3 || parts[0] != ticket || !allowed.contains(parts[1]) {
            found.append("\(place): \(entry.id) shows '\(value)'")
          }
        }
      }
    }
    return found
  }

  /// The ticket's views, decisions and notifications in the shared log equal those of the ticket
  /// recorded alone (positions aside): other tickets change nothing.
  static func sameAsAlone(_ plan: Plan, in log: PartnerSyncLog) throws -> [String] {
    var alone = TicketProjection(ticket: plan.ticket)
    for (index, event) in plan.events.enumerated() {
      let n = Int64(index + 1)
      try alone.apply(RecordedEvent(position: n, version: n, at: event.at!, event: event))
    }
    let shared = try #require(try log.projection(ticket: plan.ticket))
    var found: [String] = []
    for partner in alone.partners {
      let a = try alone.view(of: partner).entries
      let b = try shared.view(of: partner).entries
      if a != b { found.append("\(plan.ticket): \(partner)'s view differs from the ticket alone") }
    }
    func brief(_ d: SyncDecision) -> String { "\(d.entry) \(d.by)>\(d.to) \(d.outcome) \(d.rule)" }
    if alone.decisions.map(brief) != shared.decisions.map(brief) {
      found.append("\(plan.ticket): decisions differ from the ticket alone")
    }
    if alone.notifications.map({ "\($0.rule) \($0.partner) \($0.to) \($0.entry ?? "")" })
      != shared.notifications.map({ "\($0.rule) \($0.partner) \($0.to) \($0.entry ?? "")" })
    {
      found.append("\(plan.ticket): notifications differ from the ticket alone")
    }
    let roles = Roles(plan.events)
    for n in try log.notifications(ticket: plan.ticket) where !roles.isOnTicket(n.partner) {
      found.append("\(plan.ticket): \(n.partner) was notified at \(n.position)")
    }
    return found
  }

  @Test("no partner or ticket sees another's entries, at any sampled point", arguments: 0..<logs)
  func isolation(log index: Int) throws {
    var rng = SplitMix64(seed: 0x150_1A7E + UInt64(index))
    let plans = try (0..<Self.ticketsPerLog).map { t in
      try Self.plan(ticket: "L\(index)-T\(t)", seed: UInt64(index * 100 + t) &+ 0x7EA5)
    }
    let events = Self.interleave(plans, using: &rng)
    let log = try PartnerSyncLog.inMemory()
    var start = 0
    while start < events.count {
      let end = min(events.count, start + Int.random(in: 1...20, using: &rng))
      try log.record(Array(events[start..<end]), now: Timestamp(microseconds: 0))
      start = end
    }
    #expect(try log.lastPosition() == Int64(events.count))

    var problems: [String] = []
    var samples = Set((0..<12).map { _ in Int.random(in: 1...events.count, using: &rng) })
    samples.insert(events.count)
    for position in samples.sorted() {
      for plan in plans {
        let roles = Roles(events[..<position].filter { $0.ticket == plan.ticket })
        guard roles.lead != nil else {
          // Not started yet: the ticket does not exist for anybody.
          let view = try? log.view(ticket: plan.ticket, as: Self.pool[0], at: .position(Int64(position)))
          if view != nil { problems.append("\(plan.ticket) is visible at \(position), before its first event") }
          continue
        }
        for partner in Self.pool {
          problems += Self.problems(
            in: log, ticket: plan.ticket, partner: partner, at: Int64(position), roles: roles)
        }
      }
    }
    for plan in plans { problems += try Self.sameAsAlone(plan, in: log) }
    #expect(problems.isEmpty, "log \(index): \(problems.prefix(10))")
    // The histories must give the check something to catch.
    let copies = try plans.map { plan in
      try #require(try log.projection(ticket: plan.ticket)).decisions.filter { $0.outcome == .synced }.count
    }
    #expect(copies.reduce(0, +) >= 20, "log \(index): too few synced decisions (\(copies))")
  }
}
