// An integrator's program that embeds PartnerSync through its asynchronous API: it records a short
// history in an in-memory log, prints the decisions each batch took, follows new events as an
// asynchronous sequence, reads both partners' views, and delivers the notification outbox with a
// checkpoint.

import PartnerSync

@main
struct PartnerSyncExample {
  static func main() async throws {
    let log = try PartnerSyncLog.inMemory()
    let start = Timestamp(rfc3339: "2026-03-02T09:00:00Z")!

    // Follow the log as a delivery process would, in its own task.
    let follower = Task {
      var seen: [String] = []
      for try await recorded in log.events(after: 0, interval: .milliseconds(10)) {
        seen.append("\(recorded.position):\(recorded.event.type.rawValue)")
        if recorded.position == 4 { break }
      }
      return seen
    }

    // The lead outsources T-1 to bolt; bolt accepts and adds a note and time.
    let batch = [
      TicketEvent(ticket: "T-1", by: "acme", at: start, .outsourced(Outsourcing(partner: "bolt", resource: "dana"))),
      TicketEvent(ticket: "T-1", by: "bolt", at: start, .accepted),
      TicketEvent(
        ticket: "T-1", by: "bolt", at: start,
        .entryAdded(entry: "n1", content: EntryContent(kind: .note, text: "On site"))),
      TicketEvent(
        ticket: "T-1", by: "bolt", at: start, .entryAdded(entry: "t1", content: EntryContent(kind: .time, hours: 1.5))),
    ]
    let result = try await log.record(batch, now: start)
    print("recorded positions \(result.firstPosition)–\(result.lastPosition)")
    for decision in result.decisions {
      print(
        "  \(decision.position) \(decision.entry) → \(decision.to): \(decision.outcome.rawValue) (\(decision.rule.rawValue))"
      )
    }

    // The rules refuse an approval nobody asked for, and nothing is appended.
    do {
      try await log.record([TicketEvent(ticket: "T-1", by: "acme", .completionApproved)], now: start)
    } catch {
      guard error.code == .invalidEvent else { throw error }
      print("refused: \(error.message)")
    }

    let lead = try await log.view(ticket: "T-1", as: "acme")
    let seen = lead.entries.map { "\($0.id) (\($0.content.visibility?.rawValue ?? $0.content.kind!.rawValue))" }
    print("acme sees: " + seen.joined(separator: ", "))
    print("followed: \(try await follower.value.joined(separator: " "))")

    var checkpoint: Int64 = 0
    for notification in try await log.notifications(after: checkpoint) {
      print("notify \(notification.partner)/\(notification.to): \(notification.text)")
      checkpoint = notification.position
    }
    print("checkpoint \(checkpoint)")
  }
}
