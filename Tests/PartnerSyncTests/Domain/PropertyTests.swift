import Testing

@testable import PartnerSync
@testable import PartnerSyncDomain

/// Properties that every valid history keeps, checked over seeded random histories
/// (``RandomHistory``): 10 chunks of 30 histories of 20 to 80 events, run in parallel.
@Suite("Properties of random histories")
struct PropertyTests {
  static let chunks = 10
  static let historiesPerChunk = 30

  static func seed(chunk: Int, index: Int) -> UInt64 {
    0x5EED_0000 + UInt64(chunk * historiesPerChunk + index)
  }

  static func history(seed: UInt64) throws -> RandomHistory {
    var rng = SplitMix64(seed: seed ^ 0xABCD)
    return try RandomHistory(seed: seed, length: Int.random(in: 20...80, using: &rng))
  }

  @Test("every invariant holds over random histories", arguments: 0..<chunks)
  func invariants(chunk: Int) throws {
    for index in 0..<Self.historiesPerChunk {
      let seed = Self.seed(chunk: chunk, index: index)
      let history = try Self.history(seed: seed)
      #expect(history.ticket.recorded.count >= 20, "seed \(seed): history too short")
      #expect(history.leaks.isEmpty, "seed \(seed), (a) internal states leaked: \(history.leaks)")
      let problems = Self.decisionProblems(history)
      #expect(problems.isEmpty, "seed \(seed), (b): \(problems)")
      try Self.checkLog(history, seed: seed)
    }
  }

  @Test("the random histories reach every rule and outcome")
  func coverage() throws {
    var rules: Set<RuleID> = []
    var outcomes: Set<SyncOutcome> = []
    var engagements = 0
    for index in 0..<Self.historiesPerChunk {
      let history = try Self.history(seed: Self.seed(chunk: 0, index: index))
      rules.formUnion(history.ticket.projection.decisions.flatMap { [$0.rule] + $0.transforms })
      rules.formUnion(history.ticket.projection.notifications.map(\.rule))
      outcomes.formUnion(history.ticket.projection.decisions.map(\.outcome))
      engagements = max(engagements, history.ticket.projection.engagements.count)
    }
    #expect(Set(RuleID.allCases).subtracting(rules) == [])
    #expect(Set(SyncOutcome.allCases).subtracting(outcomes) == [])
    #expect(engagements >= 3)
  }

  @Test("nothing internal crosses under any rule-set variant, and decisions stay one per change")
  func internalUnderVariants() throws {
    var rules = RuleSet()
    rules.leadTimeAsNote = false
    rules.partnerItemsInternalUsersOnly = false
    rules.linksNeverSync = false
    rules.leadChargesStayLocal = false
    rules.copyAtAcceptance = false
    rules.bundleTimeAtCompletion = false
    for index in 0..<30 {
      let seed = Self.seed(chunk: 50, index: index)
      let history = try RandomHistory(seed: seed, length: 60, rules: rules)
      #expect(history.leaks.isEmpty, "seed \(seed), (a) internal states leaked: \(history.leaks)")
      let problems = Self.decisionProblems(history)
      #expect(problems.isEmpty, "seed \(seed), (b): \(problems)")
    }
  }

  @Test("a seed names one history, and random histories survive export and import")
  func roundTrip() throws {
    for index in 0..<20 {
      let seed = Self.seed(chunk: 99, index: index)
      let history = try Self.history(seed: seed)
      #expect(try Self.history(seed: seed).ticket.recorded == history.ticket.recorded)
      let whole = try Self.log(history.ticket.recorded.map(\.event)[...])
      var lines = ""
      try whole.export { lines += $0 + "\n" }
      let imported = try PartnerSyncLog.inMemory()
      try imported.importJSONLines(Array(lines.utf8), now: Ticket.start)
      let projection = try #require(try imported.projection(ticket: "T-1"))
      #expect(Snapshot(projection) == history.snapshots.last!, "seed \(seed): round trip differs")
    }
  }

  /// Property (b): one decision per counterpart for every entry change, none when nobody is due;
  /// every held change settled once (released, severed-link, a filter's rule, or dropped) or
  /// still waiting.
  static func decisionProblems(_ history: RandomHistory) -> [String] {
    let projection = history.ticket.projection
    var problems: [String] = []
    var byPosition: [Int64: [SyncDecision]] = [:]
    for decision in projection.decisions { byPosition[decision.position, default: []].append(decision) }
    for recorded in history.ticket.recorded {
      guard let id = recorded.event.payload.entry else { continue }
      let here = byPosition[recorded.position] ?? []
      let expected = history.counterparts[recorded.position] ?? nil
      guard let counterpart = expected else {
        if !here.isEmpty { problems.append("\(recorded.position): \(here.map(\.brief)), none due") }
        continue
      }
      if here.count != 1 || here[0].to != counterpart || here[0].by != recorded.event.by
        || here[0].entry != id || here[0].event != recorded.event.type
      {
        problems.append("\(recorded.position): \(here.map(\.brief)), one to \(counterpart) due")
      }
    }
    let settling = projection.decisions.filter { $0.heldAt != nil }
    for held in projection.decisions where held.outcome == .held {
      let settled = settling.filter {
        $0.heldAt == held.position && $0.entry == held.entry && $0.to == held.to
      }
      let ok = settled.allSatisfy {
        $0.position > held.position
          && ($0.outcome == .released || $0.outcome == .dropped
            || ($0.outcome == .notSynced
              && [.severedLink, .internalNeverSyncs, .linksNeverSync, .leadChargesStayLocal].contains($0.rule)))
      }
      let waiting = projection.engagements[held.engagement - 1].status == .waitingApproval
      if !ok || settled.count > 1 || (settled.isEmpty && !waiting) {
        problems.append("held \(held.brief) settled by \(settled.map(\.brief))")
      }
    }
    let heldPositions = Set(projection.decisions.filter { $0.outcome == .held }.map(\.position))
    for decision in settling where !heldPositions.contains(decision.heldAt!) {
      problems.append("\(decision.brief) settles nothing held")
    }
    return problems
  }

  static func log(_ events: ArraySlice<TicketEvent>) throws -> PartnerSyncLog {
    let log = try PartnerSyncLog.inMemory()
    try log.record(Array(events), now: Ticket.start)
    return log
  }

  /// Properties (c) and (d): the log as of a position equals a log of that prefix and the
  /// projection fed event by event; two replays agree.
  static func checkLog(_ history: RandomHistory, seed: UInt64) throws {
    let events = history.ticket.recorded.map(\.event)
    let whole = try log(events[...])
    var rng = SplitMix64(seed: seed ^ 0x7777)
    let picks =
      [events.count, Int.random(in: 1...events.count, using: &rng)]
      + [Int.random(in: 1...events.count, using: &rng)]
    for p in picks {
      let past = try #require(try whole.projection(ticket: "T-1", through: Int64(p)))
      let prefix = try #require(try log(events[..<p]).projection(ticket: "T-1"))
      let expected = history.snapshots[p - 1]
      #expect(Snapshot(past) == expected, "seed \(seed), (c) as of \(p) differs from the fold")
      #expect(Snapshot(prefix) == expected, "seed \(seed), (c) prefix \(p) differs from the fold")
      for view in expected.views {
        let engagement = view.role == .service ? view.engagement : nil
        let seen = try whole.view(
          ticket: "T-1", as: view.partner, at: .position(Int64(p)), engagement: engagement)
        #expect(seen == view, "seed \(seed), (c) view of \(view.partner) as of \(p)")
      }
    }
    var first: [Snapshot] = []
    var second: [Snapshot] = []
    try whole.replay(progress: nil) { first.append(Snapshot($0)) }
    try whole.replay(progress: nil) { second.append(Snapshot($0)) }
    #expect(first == second, "seed \(seed), (d) two replays differ")
    #expect(first == [history.snapshots.last!], "seed \(seed), (d) replay differs from the fold")
  }
}
