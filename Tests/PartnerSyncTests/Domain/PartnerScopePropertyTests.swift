import OrderedCollections
import Testing

@testable import PartnerSync
@testable import PartnerSyncDomain

/// Over random multi-partner histories: nothing a read scoped to a partner returns (its audit as
/// JSON, its notifications, its export) names an entry id, a text token or a partner that the
/// partner's own views never held, except its own; nor another service partner's engagement.
@Suite("Scoped reads tell a partner only what its views held")
struct PartnerScopePropertyTests {
  static let partners = ["acme", "bolt", "crane", "zed"]

  /// What `partner`'s views held over `history`: at every position, every version of it (the
  /// lead's, or each of its engagements'); and what its own events wrote.
  struct Known {
    var ids: Set<String> = []
    var tokens: Set<String> = []
    var partners: Set<String> = []
    var engagements: Set<Int> = []
    /// Whether the partner may know the ticket at all (the lead, or offered it once).
    var ticket = false

    init(_ partner: String, in history: RandomHistory) {
      let projection = history.ticket.projection
      partners.insert(partner)
      for snapshot in history.snapshots {
        for view in snapshot.views where view.partner == partner {
          for entry in view.entries {
            ids.insert(entry.id)
            partners.insert(entry.owner)
            for value in [entry.content.text, entry.content.name, entry.content.title] {
              if let value { tokens.insert(value) }
            }
          }
        }
      }
      for recorded in history.ticket.recorded where recorded.event.by == partner {
        if let id = recorded.event.payload.entry { ids.insert(id) }
        switch recorded.event.payload {
        case .entryAdded(_, let content), .entryEdited(_, let content):
          for value in [content.text, content.name, content.title] {
            if let value { tokens.insert(value) }
          }
        default: break
        }
      }
      guard let lead = projection.lead else { return }
      for engagement in projection.engagements where partner == lead || engagement.partner == partner {
        ticket = true
        engagements.insert(engagement.number)
        partners.insert(engagement.partner)
      }
      if partner == lead { ticket = true }
      if ticket { partners.insert(lead) }
    }
  }

  /// The words of `text` that name an entry id (`e<n>`, `bundle-<n>`), a token (`o<n>`, `f<n>`)
  /// or a partner of the random histories; and the numbers that follow the word "engagement".
  static func names(in text: String) -> (names: Set<String>, engagements: Set<Int>) {
    var words: [String] = []
    var word = ""
    for character in text.lowercased() + " " {
      if character.isLetter || character.isNumber || character == "-" {
        word.append(character)
      } else if !word.isEmpty {
        words.append(word)
        word = ""
      }
    }
    func isName(_ word: String) -> Bool {
      if partners.contains(word) { return true }
      for prefix in ["e", "o", "f", "bundle-"] where word.hasPrefix(prefix) {
        let rest = word.dropFirst(prefix.count)
        if !rest.isEmpty, rest.allSatisfy(\.isNumber) { return true }
      }
      return false
    }
    var engagements: Set<Int> = []
    for (index, word) in words.enumerated().dropLast() where word == "engagement" {
      if let number = Int(words[index + 1]) { engagements.insert(number) }
    }
    return (Set(words.filter(isName)), engagements)
  }

  @Test("no scoped read names what the partner never held", arguments: 0..<8)
  func scopedReadsNameOnlyWhatWasHeld(chunk: Int) throws {
    for index in 0..<25 {
      let seed = 0x5C0_0000 + UInt64(chunk * 25 + index)
      var rng = SplitMix64(seed: seed ^ 0x5C)
      let history = try RandomHistory(seed: seed, length: Int.random(in: 20...90, using: &rng))
      for problem in try Self.problems(in: history) { Issue.record("seed \(seed): \(problem)") }
    }
  }

  /// Everything a scoped read of `history` returns that its partner may not know.
  static func problems(in history: RandomHistory) throws -> [String] {
    let log = try PartnerSyncLog.inMemory()
    try log.record(history.ticket.recorded.map(\.event), now: Ticket.start)
    let projection = history.ticket.projection
    var problems: [String] = []
    for partner in partners {
      let known = Known(partner, in: history)
      guard known.ticket else {
        // A ticket it may not know: every scoped read fails as for a ticket not in the log.
        for error in [
          PartnerScopeTests.error { () throws(PartnerSyncError) in try log.audit(ticket: "T-1", as: partner) },
          PartnerScopeTests.error { () throws(PartnerSyncError) in try log.notifications(ticket: "T-1", as: partner) },
          PartnerScopeTests.error { () throws(PartnerSyncError) in try log.export(ticket: "T-1", as: partner) { _ in }
          },
        ] where error != PartnerSyncError(.unknownTicket, "ticket T-1 is not in the log") {
          problems.append("\(partner) may not know T-1, yet a scoped read gave \(String(describing: error))")
        }
        continue
      }
      let decisions = try log.audit(ticket: "T-1", as: partner)
      let audit = JSONValue.object([("ticket", .string("T-1")), ("decisions", .array(decisions.map(\.json)))])
      var outputs = [("audit", audit.jsonText)]
      let notifications = try log.notifications(ticket: "T-1", as: partner)
      outputs += notifications.map { ("notification", $0.json.jsonText) }
      // The stored outbox, read as that partner, holds the same notifications.
      let stored = try log.outbox(limit: .max, as: partner).map(\.notification)
      if stored != notifications { problems.append("\(partner)'s stored outbox differs from its notifications") }
      outputs += stored.map { ("outbox", $0.json.jsonText) }
      try log.export(ticket: "T-1", as: partner) { outputs.append(("export", $0)) }
      try log.export(as: partner) { outputs.append(("export of the log", $0)) }
      for (source, text) in outputs {
        let found = names(in: text)
        let unknown = found.names.subtracting(known.ids).subtracting(known.tokens).subtracting(known.partners)
        if !unknown.isEmpty {
          problems.append("\(partner)'s \(source) names \(unknown.sorted()) it never held: \(text)")
        }
        let engagements = found.engagements.subtracting(known.engagements)
        if !engagements.isEmpty {
          problems.append("\(partner)'s \(source) names engagement \(engagements.sorted()): \(text)")
        }
      }
      for decision in decisions where !known.engagements.contains(decision.engagement) {
        problems.append("\(partner)'s audit holds a decision of engagement \(decision.engagement): \(decision.brief)")
      }
      // An entry it may know of is exactly one that its views held (or it wrote).
      for id in projection.records.keys where projection.knowsEntry(id, partner: partner) != known.ids.contains(id) {
        problems.append("\(partner): knowsEntry(\(id)) is \(!known.ids.contains(id)), its views say otherwise")
      }
    }
    return problems
  }

  @Test("the random histories give scoped reads something to hide and something to show")
  func historiesCoverScoping() throws {
    var hidden = 0
    var shown = 0
    var anonymous = 0
    for index in 0..<40 {
      let history = try RandomHistory(seed: 0x5C0_0000 + UInt64(index), length: 80)
      let projection = history.ticket.projection
      for partner in ["bolt", "crane"] where projection.isKnown(to: partner) {
        let visible = projection.decisions(visibleTo: partner)
        shown += visible.count
        hidden += projection.decisions.count - visible.count
      }
      if let lead = projection.lead {
        anonymous +=
          projection.notifications(for: lead).filter {
            $0.rule == .subcontractorTimeNotifiesResource && $0.entry == nil
          }.count
      }
    }
    #expect(hidden > 100 && shown > 100 && anonymous > 0, "hidden \(hidden), shown \(shown), anonymous \(anonymous)")
  }
}
