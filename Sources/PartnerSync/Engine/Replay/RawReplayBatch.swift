/// Events read from the log as bytes, on their way from the replay's reader to the parts that
/// decode and fold them: each part reads the same batch, and takes its own share of it.
final class RawReplayBatch: Sendable {
  /// Where one event's columns are in its part's bytes, back to back: its type, actor and data.
  struct Event: Sendable {
    var position: Int64
    /// The event's ticket slot, or for the last event of its ticket `~slot` (negative).
    var slot: Int32
    var start: Int
    var typeEnd: Int
    var actorEnd: Int
    var dataEnd: Int

    /// Whether this is the last event of its ticket.
    var isLast: Bool { slot < 0 }
    /// The ticket's slot.
    var ticketSlot: Int { Int(isLast ? ~slot : slot) }
  }

  /// The events of one part's tickets, ticket by ticket (see `TicketGrouping`), and their bytes
  /// in that order: a part reads both straight through, which the processor reads ahead of it,
  /// where jumping about a whole batch's bytes missed its caches at every event.
  struct Part: Sendable {
    var events: [Event] = []
    var bytes: [UInt8] = []
  }

  /// The tickets seen for the first time in this batch, in that order: they take the slots from
  /// `firstNewSlot` on.
  let newTickets: [String]
  let firstNewSlot: Int
  /// By part, its events.
  let parts: [Part]

  init(newTickets: [String], firstNewSlot: Int, parts: [Part]) {
    self.newTickets = newTickets
    self.firstNewSlot = firstNewSlot
    self.parts = parts
  }

  /// How many events the batch holds.
  var eventCount: Int { parts.reduce(0) { $0 + $1.events.count } }
}
