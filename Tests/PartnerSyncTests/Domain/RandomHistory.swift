import OrderedCollections

@testable import PartnerSync
@testable import PartnerSyncDomain

/// A random valid history of ticket `T-1`: random candidate events, kept when the rules accept
/// them. The lead is `acme`; `bolt` and `crane` are engaged in turn; `zed` is a stranger.
///
/// Every owner's write puts a fresh token `o<n>` in the entry's text (a time entry or note), name
/// (an attachment) or title (a charge); a foreign edit writes `f<n>`. ``ownerTokens`` remembers
/// whether the owner state that carried each token was shareable (not `internal`).
struct RandomHistory {
  static let statusWeights: [(EventType, Int)] = [
    (.outsourced, 3), (.cancelled, 1), (.declined, 1), (.accepted, 4),
    (.completionRequested, 3), (.completionRejected, 3), (.completionApproved, 2), (.completed, 1),
  ]

  var rng: SplitMix64
  var ticket: Ticket
  /// Token → whether the owner state carrying it was not internal.
  var ownerTokens: [String: Bool] = [:]
  /// The snapshot after each event (index `position - 1`).
  var snapshots: [Snapshot] = []
  /// For each entry event: the counterpart DOMAIN.md names (`nil`: no decision is due).
  var counterparts: [Int64: String?] = [:]
  /// Copies that showed what they must not, as `position: description`.
  var leaks: [String] = []
  var serial = 0

  init(seed: UInt64, length: Int, rules: RuleSet = .standard) throws {
    rng = SplitMix64(seed: seed)
    ticket = try Ticket(rules: rules)
    var attempts = 0
    while ticket.recorded.count < length, attempts < length * 50 {
      attempts += 1
      let (event, token) = propose()
      guard (try? ticket.projection.validate(event)) != nil else { continue }
      let expected = counterpart(of: event)
      try ticket.apply(event)
      let position = ticket.projection.position
      if let id = event.payload.entry {
        counterparts[position] = expected
        if let token, token.hasPrefix("o"), let record = ticket.projection.records[id] {
          ownerTokens[token] = record.content.visibility != .internal
        }
      }
      let snapshot = ticket.snapshot()
      snapshots.append(snapshot)
      checkCopies(snapshot)
    }
  }

  // MARK: Checks

  /// Property (a): a copy carries only owner states that were shareable, and is never internal
  /// unless its own partner made it so (a foreign edit, which wrote an `f` token).
  mutating func checkCopies(_ snapshot: Snapshot) {
    for view in snapshot.views {
      for entry in view.entries where entry.isCopy {
        let values = [entry.content.text, entry.content.name, entry.content.title].compactMap { $0 }
        for value in values where value.hasPrefix("o") && ownerTokens[value] != true {
          leaks.append("\(snapshot.position): \(view.partner) sees \(entry.id) with \(value)")
        }
        if entry.content.visibility == .internal, !values.contains(where: { $0.hasPrefix("f") }) {
          leaks.append("\(snapshot.position): \(view.partner) holds internal copy \(entry.id)")
        }
      }
    }
  }

  /// The counterpart of an entry change, as "How one change is decided" defines it.
  func counterpart(of event: TicketEvent) -> String? {
    let projection = ticket.projection
    guard let id = event.payload.entry else { return nil }
    let actor = event.by
    let lead = projection.lead ?? actor
    let owner = event.type == .entryAdded ? actor : projection.records[id]!.owner
    if actor != owner { return owner }
    if actor != lead { return lead }
    guard let current = projection.engagements.last else { return nil }
    let accepted: [OutsourceStatus] = [.accepted, .inProgress, .waitingApproval, .complete]
    return accepted.contains(current.status) ? current.partner : nil
  }

  // MARK: Candidates

  mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &rng) < percent }

  mutating func pick<T>(_ items: [T]) -> T { items.randomElement(using: &rng)! }

  mutating func propose() -> (TicketEvent, token: String?) {
    serial += 1
    let roll = Int.random(in: 0..<100, using: &rng)
    if roll < 22 { return (statusEvent(), nil) }
    let actor = pickActor()
    if roll < 50 { return added(by: actor) }
    if roll < 85 { return edited(by: actor) ?? added(by: actor) }
    if let event = deleted(by: actor) { return (event, nil) }
    return added(by: actor)
  }

  mutating func pickActor() -> String {
    let projection = ticket.projection
    guard projection.lead != nil else { return "acme" }
    let roll = Int.random(in: 0..<100, using: &rng)
    if roll < 40 { return "acme" }
    if roll < 75, let current = projection.engagements.last { return current.partner }
    if roll < 96 { return pick(["bolt", "crane"]) }
    return "zed"
  }

  mutating func statusEvent() -> TicketEvent {
    let total = Self.statusWeights.reduce(0) { $0 + $1.1 }
    var roll = Int.random(in: 0..<total, using: &rng)
    var type = EventType.outsourced
    for (candidate, weight) in Self.statusWeights {
      if roll < weight {
        type = candidate
        break
      }
      roll -= weight
    }
    let partner = ticket.projection.engagements.last?.partner ?? "bolt"
    let right = [.declined, .accepted, .completionRequested].contains(type) ? partner : "acme"
    let actor = chance(90) ? right : pick(["acme", "bolt", "crane", "zed"])
    if type == .outsourced {
      return ev.outsourced(
        pick(["bolt", "crane"]), by: actor, resource: pick([nil, "dana", "eve"]),
        rate: pick([nil, 40, 80]))
    }
    return ev.status(type, by: actor)
  }

  mutating func added(by actor: String) -> (TicketEvent, token: String?) {
    let known = Array(ticket.projection.records.keys).sorted()
    let id = !known.isEmpty && chance(4) ? pick(known) : "e\(serial)"
    let token = "o\(serial)"
    let kind = pick([EntryKind.note, .note, .note, .time, .time, .attachment, .attachment, .charge])
    let visibility: Visibility? = chance(30) ? .internal : pick([nil, .public])
    let event: TicketEvent
    switch kind {
    case .note:
      event = ev.added(
        id, by: actor, .note, title: pick([nil, "t"]), text: token, visibility: visibility)
    case .time:
      event = ev.added(id, by: actor, .time, hours: pick([0.25, 0.5, 1, 1.5, 2, 3]), text: token)
    case .attachment:
      event = ev.added(
        id, by: actor, .attachment, visibility: visibility,
        type: chance(55) ? .file : pick([.url, .fileLink, .folderLink]), name: token,
        uri: pick([nil, "u"]))
    case .charge:
      event = ev.added(
        id, by: actor, .charge, title: token, amount: pick([10, 25.5, 100]),
        billable: pick([nil, true, false]))
    }
    return (event, token)
  }

  mutating func edited(by actor: String) -> (TicketEvent, token: String?)? {
    guard let entry = pickEntry(of: actor) else { return nil }
    let id = chance(5) ? pick(Array(ticket.projection.records.keys).sorted()) : entry.id
    let token = (ticket.projection.records[id]?.owner == actor ? "o" : "f") + "\(serial)"
    var changes = EntryContent()
    switch entry.content.kind ?? .note {
    case .note:
      changes.text = token
      if chance(40) { changes.visibility = pick([.public, .internal]) }
      if chance(15) { changes.title = "t" }
    case .time:
      changes.text = token
      if chance(40) { changes.hours = pick([0.5, 1.25, 2, 4]) }
    case .attachment:
      changes.name = token
      if chance(40) { changes.visibility = pick([.public, .internal]) }
      if chance(15) { changes.uri = "u2" }
    case .charge:
      changes.title = token
      if chance(30) { changes.amount = pick([5, 12, 60]) }
      if chance(30) { changes.billable = pick([true, false]) }
    }
    if chance(3) { changes.hours = 1 }  // on a note, attachment or charge: refused
    return (ev.event(actor, .entryEdited(entry: id, changes: changes)), token)
  }

  mutating func deleted(by actor: String) -> TicketEvent? {
    guard let entry = pickEntry(of: actor) else { return nil }
    let id = chance(5) ? pick(Array(ticket.projection.records.keys).sorted()) : entry.id
    return ev.deleted(id, by: actor)
  }

  /// An entry of `actor`'s version (its latest engagement's, for a service partner).
  mutating func pickEntry(of actor: String) -> ViewEntry? {
    guard let view = try? ticket.view(actor), !view.entries.isEmpty else { return nil }
    return pick(view.entries)
  }
}
