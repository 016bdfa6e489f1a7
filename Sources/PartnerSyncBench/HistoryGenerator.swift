import PartnerSync

/// A synthetic partner history: many tickets worked at once, every event type and rule
/// exercised, every event accepted by the rules (each one is validated by a
/// ``TicketProjection`` of its ticket before it is kept).
///
/// Tickets run their course at different speeds: about `activeTickets` of them are open at any
/// time and their events interleave in the log, as in a real PSA. A ticket's life: the lead may
/// log a few entries, outsources it (some partners decline, some offers are cancelled, and the
/// ticket is outsourced again), both sides add, edit and delete notes, time, attachments and
/// charges (some internal, some links, some edited or deleted by the other side), the partner
/// asks for approval (changes are held meanwhile), the lead rejects or approves (or completes
/// itself), and a few changes follow the completion.
struct HistoryGenerator {
  /// What the generator produced.
  struct History {
    /// The first `importCount` events as JSON Lines, through the library's own codec.
    var jsonLines: [UInt8]
    /// How many events `jsonLines` holds.
    var importCount: Int
    /// The events after those, to append one at a time.
    var tail: [TicketEvent]
    /// Every ticket with its lead and the partners it was outsourced to.
    var tickets: [(ticket: String, lead: String, partners: [String])]
  }

  static let organisations = ["acme", "bolt", "crane", "delta", "ember", "fjord", "gamma", "helix"]
  static let resources = ["dana", "eve", "farid", "grace", "hugo"]
  static let words = [
    "printer", "jams", "tray", "roller", "replaced", "customer", "called", "back", "remote",
    "session", "firmware", "updated", "switch", "port", "cable", "patched", "checked", "logs",
    "error", "code", "reboot", "fixed", "waiting", "for", "parts", "ordered", "on", "site",
    "at", "the", "office", "floor", "three", "network", "latency", "ticket", "escalated",
    "vendor", "case", "opened", "license", "renewed", "backup", "restored", "user", "account",
    "unlocked", "password", "reset", "monitor", "flicker", "driver", "rolled", "back", "tested",
    "again", "works", "now", "see", "attached", "photo",
  ]

  private var rng: SplitMix64
  private var clock: Int64 = 1_767_600_000_000_000  // 2026-01-05T08:00:00Z
  private var serial = 0

  init(seed: UInt64) {
    rng = SplitMix64(seed: seed)
  }

  /// Generates `events + tailCount` events over `ticketCount` tickets; about `activeTickets`
  /// tickets are open at a time.
  mutating func generate(events: Int, tailCount: Int, tickets ticketCount: Int, activeTickets: Int)
    -> History
  {
    let total = events + tailCount
    let lengths = ticketLengths(total: total, tickets: ticketCount)
    var scripts: [TicketScript] = []
    var started = 0
    var jsonLines: [UInt8] = []
    jsonLines.reserveCapacity(events * 240)
    var tail: [TicketEvent] = []
    var tickets: [(ticket: String, lead: String, partners: [String])] = []
    func start() -> TicketScript? {
      guard started < lengths.count else { return nil }
      defer { started += 1 }
      let lead = Self.organisations[rng.below(4)]
      return TicketScript(ticket: "T-\(100_001 + started)", lead: lead, length: lengths[started])
    }
    while scripts.count < activeTickets, let script = start() { scripts.append(script) }
    var produced = 0
    while produced < total, !scripts.isEmpty {
      let index = rng.below(scripts.count)
      clock += Int64(1 + rng.below(90)) * 1_000_000 + Int64(rng.below(1000)) * 1000
      var event = next(&scripts[index])
      event.at = Timestamp(microseconds: clock)
      if produced < events {
        jsonLines.append(contentsOf: event.jsonLine.utf8)
        jsonLines.append(0x0A)
      } else {
        tail.append(event)
      }
      produced += 1
      if scripts[index].remaining == 0 {
        let done = scripts[index]
        tickets.append((done.ticket, done.lead, done.partners))
        if let replacement = start() {
          scripts[index] = replacement
        } else {
          scripts.remove(at: index)
        }
      }
    }
    return History(jsonLines: jsonLines, importCount: events, tail: tail, tickets: tickets)
  }

  /// Ticket lengths between 10 and 90 events (50 on average) that add up to `total`.
  private mutating func ticketLengths(total: Int, tickets: Int) -> [Int] {
    let count = max(1, min(tickets, total))
    let mean = max(1, total / count)
    var lengths = (0..<count).map { _ in max(1, mean - mean * 4 / 5 + rng.below(mean * 8 / 5 + 1)) }
    var difference = total - lengths.reduce(0, +)
    var index = 0
    while difference != 0 {
      if difference > 0 {
        lengths[index] += 1
        difference -= 1
      } else if lengths[index] > 1 {
        lengths[index] -= 1
        difference += 1
      }
      index = (index + 1) % count
    }
    return lengths
  }

  // MARK: One ticket

  /// The next event of a ticket: proposals are checked against the ticket's projection until
  /// one is accepted; the lead adding a note is always accepted.
  private mutating func next(_ script: inout TicketScript) -> TicketEvent {
    var chosen: TicketEvent?
    for _ in 0..<24 {
      let proposal = propose(script)
      if (try? script.projection.validate(proposal)) != nil {
        chosen = proposal
        break
      }
    }
    let event = chosen ?? added(by: script.lead, script)
    script.record(event)
    return event
  }

  private mutating func propose(_ script: TicketScript) -> TicketEvent {
    let lead = script.lead
    guard script.projection.lead != nil else {
      return rng.chance(55) ? added(by: lead, script) : outsourced(script)
    }
    let partner = script.partner
    switch script.status {
    case nil, .declined?, .cancelled?:
      if rng.chance(45) { return outsourced(script) }
      return entryChange(by: lead, script)
    case .assigned?:
      let roll = rng.below(100)
      if roll < 62 { return status(.accepted, by: partner!, script) }
      if roll < 74 {
        return event(
          script, by: partner!, .declined(reason: rng.chance(50) ? sentence(4...10) : nil))
      }
      if roll < 82 { return status(.cancelled, by: lead, script) }
      return entryChange(by: lead, script)
    case .accepted?, .inProgress?:
      let roll = rng.below(100)
      if roll < 5 { return status(.completionRequested, by: partner!, script) }
      if roll < 6 { return status(.completed, by: lead, script) }
      return entryChange(by: rng.chance(40) ? lead : partner!, script)
    case .waitingApproval?:
      let roll = rng.below(100)
      if roll < 30 { return event(script, by: lead, .completionRejected(reason: sentence(3...12))) }
      if roll < 55 { return status(.completionApproved, by: lead, script) }
      if roll < 60 { return status(.completed, by: lead, script) }
      // New entries from the partner, the lead's own changes: held until the lead decides.
      return rng.chance(50) ? added(by: partner!, script) : entryChange(by: lead, script)
    case .complete?:
      if rng.chance(12) { return outsourced(script) }
      // After completion both sides still change their versions; nothing crosses any more.
      return entryChange(by: rng.chance(50) ? lead : partner!, script)
    }
  }

  private mutating func outsourced(_ script: TicketScript) -> TicketEvent {
    var candidates = Self.organisations.filter { $0 != script.lead }
    // A partner that declined is usually not asked again.
    if rng.chance(80) { candidates.removeAll { script.declinedBy.contains($0) } }
    let partner = rng.pick(candidates.isEmpty ? ["helix"] : candidates)
    return event(
      script, by: script.lead,
      .outsourced(
        Outsourcing(
          partner: partner, resource: rng.chance(70) ? rng.pick(Self.resources) : nil,
          rate: rng.chance(60) ? rng.pick([40, 65, 80, 95.5, 120]) : nil)))
  }

  private mutating func status(_ type: EventType, by actor: String, _ script: TicketScript)
    -> TicketEvent
  {
    let payload: EventPayload
    switch type {
    case .cancelled: payload = .cancelled
    case .accepted: payload = .accepted
    case .completionRequested: payload = .completionRequested
    case .completionApproved: payload = .completionApproved
    default: payload = .completed
    }
    return event(script, by: actor, payload)
  }

  /// An entry change by `actor` on its own version: adds, own and foreign edits and deletes,
  /// and visibility changes that withdraw copies.
  private mutating func entryChange(by actor: String, _ script: TicketScript) -> TicketEvent {
    let entries = (try? script.projection.view(of: actor).entries) ?? []
    let own = entries.filter { !$0.isCopy }
    let foreign = entries.filter(\.isCopy)
    let roll = rng.below(100)
    if roll < 44 || entries.isEmpty { return added(by: actor, script) }
    if roll < 70, !own.isEmpty { return edited(rng.pick(own), by: actor, script) }
    if roll < 80, !foreign.isEmpty { return edited(rng.pick(foreign), by: actor, script) }
    if roll < 87, !own.isEmpty { return event(script, by: actor, .entryDeleted(entry: rng.pick(own).id)) }
    if roll < 91, !foreign.isEmpty {
      return event(script, by: actor, .entryDeleted(entry: rng.pick(foreign).id))
    }
    let shareable = own.filter { $0.content.kind == .note || $0.content.kind == .attachment }
    if !shareable.isEmpty {
      let entry = rng.pick(shareable)
      let visibility: Visibility = entry.content.visibility == .internal ? .public : .internal
      return event(
        script, by: actor, .entryEdited(entry: entry.id, changes: EntryContent(visibility: visibility)))
    }
    return added(by: actor, script)
  }

  private mutating func added(by actor: String, _ script: TicketScript) -> TicketEvent {
    serial += 1
    let roll = rng.below(100)
    let content: EntryContent
    let prefix: String
    if roll < 40 {
      prefix = "n"
      content = EntryContent(
        kind: .note, title: rng.chance(50) ? title() : nil, text: sentence(4...30),
        visibility: visibility(internalPercent: 15))
    } else if roll < 65 {
      prefix = "t"
      content = EntryContent(
        kind: .time, hours: rng.pick([0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4]),
        title: rng.chance(40) ? title() : nil, text: rng.chance(70) ? sentence(3...14) : nil)
    } else if roll < 85 {
      prefix = "a"
      let type = rng.pick([AttachmentType.file, .file, .file, .url, .url, .fileLink, .folderLink])
      content = EntryContent(
        kind: .attachment, visibility: visibility(internalPercent: 10), attachmentType: type,
        name: "\(rng.pick(Self.words))-\(serial).\(rng.pick(["pdf", "jpg", "txt", "log"]))",
        uri: rng.chance(70) ? "https://files.example.com/\(script.ticket)/\(serial)" : nil)
    } else {
      prefix = "c"
      content = EntryContent(
        kind: .charge, title: rng.chance(60) ? title() : nil,
        amount: Double(500 + rng.below(50_000)) / 100, billable: rng.chance(30) ? rng.chance(50) : nil)
    }
    return event(script, by: actor, .entryAdded(entry: "\(prefix)\(script.nextEntry)", content: content))
  }

  private mutating func edited(_ entry: ViewEntry, by actor: String, _ script: TicketScript)
    -> TicketEvent
  {
    var changes = EntryContent()
    switch entry.content.kind ?? .note {
    case .note:
      changes.text = sentence(4...30)
      if rng.chance(20) { changes.title = title() }
    case .time:
      if rng.chance(50) { changes.hours = rng.pick([0.5, 1, 1.25, 2, 2.5, 5]) }
      if changes.hours == nil || rng.chance(30) { changes.text = sentence(3...14) }
    case .attachment:
      if rng.chance(60) {
        changes.name = "\(rng.pick(Self.words))-v\(rng.below(9) + 2).pdf"
      } else {
        changes.uri = "https://files.example.com/\(script.ticket)/r\(rng.below(1000))"
      }
    case .charge:
      if rng.chance(60) { changes.amount = Double(500 + rng.below(50_000)) / 100 }
      if changes.amount == nil || rng.chance(20) { changes.billable = rng.chance(50) }
    }
    return event(script, by: actor, .entryEdited(entry: entry.id, changes: changes))
  }

  private func event(_ script: TicketScript, by actor: String, _ payload: EventPayload) -> TicketEvent {
    TicketEvent(ticket: script.ticket, by: actor, payload)
  }

  private mutating func visibility(internalPercent: Int) -> Visibility? {
    let roll = rng.below(100)
    if roll < internalPercent { return .internal }
    return roll < internalPercent + 25 ? .public : nil
  }

  private mutating func title() -> String {
    (0..<(2 + rng.below(4))).map { _ in rng.pick(Self.words) }.joined(separator: " ").capitalizedFirst
  }

  private mutating func sentence(_ words: ClosedRange<Int>) -> String {
    let count = words.lowerBound + rng.below(words.count)
    return (0..<count).map { _ in rng.pick(Self.words) }.joined(separator: " ").capitalizedFirst + "."
  }
}

/// The generator's state of one ticket: its projection (which validates every proposal), and
/// what the generator needs to propose sensible events.
private struct TicketScript {
  let ticket: String
  let lead: String
  var projection: TicketProjection
  var remaining: Int
  var partner: String?
  var status: OutsourceStatus?
  var partners: [String] = []
  var declinedBy: [String] = []
  var nextEntry = 1

  init(ticket: String, lead: String, length: Int) {
    self.ticket = ticket
    self.lead = lead
    projection = TicketProjection(ticket: ticket)
    remaining = length
  }

  /// Folds an accepted event into the projection and the generator's own state.
  mutating func record(_ event: TicketEvent) {
    let recorded = RecordedEvent(
      position: projection.position + 1, version: projection.version + 1, at: event.at ?? Timestamp(microseconds: 0),
      event: event)
    try! projection.apply(recorded)
    remaining -= 1
    switch event.payload {
    case .outsourced(let o):
      partner = o.partner
      status = .assigned
      if !partners.contains(o.partner) { partners.append(o.partner) }
    case .accepted: status = .accepted
    case .declined:
      status = .declined
      declinedBy.append(event.by)
    case .cancelled: status = .cancelled
    case .completionRequested: status = .waitingApproval
    case .completionRejected: status = .inProgress
    case .completionApproved, .completed: status = .complete
    case .entryAdded: nextEntry += 1
    case .entryEdited, .entryDeleted: break
    }
  }
}

extension String {
  fileprivate var capitalizedFirst: String {
    guard let first else { return self }
    return first.uppercased() + dropFirst()
  }
}
