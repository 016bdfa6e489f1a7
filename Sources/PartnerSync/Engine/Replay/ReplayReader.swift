import EventLog
import Foundation
import PartnerSyncDomain

/// Reads the log in position order, in chunks, as bytes for `replay`, marking the last event of
/// each ticket (found in the log's index when a chunk first meets the ticket, see
/// `EventLogReader.lastPositions(ofStreams:through:)`: the folding threads start on the first
/// chunk instead of waiting for every ticket's end to be known).
///
/// Each chunk is read in its own short call to the log (its lock is never held while waiting for
/// the folding threads), so that the folding threads, and `replay`'s `body`, can use the log too.
/// Positions never change once written, so chunks up to the last position read at the start see
/// exactly what one long read would.
struct ReplayReader: @unchecked Sendable {
  // @unchecked Sendable: the log serialises its own access (see `PartnerSyncLog`), and the
  // reader's own state lives in `run` on one thread.

  static let chunkSize: Int64 = 32_768

  let log: PartnerSyncLog
  let last: Int64
  let chunkSize: Int64

  /// Puts every batch into each of `handoffs`.
  func run(into handoffs: [Handoff<RawReplayBatch>]) {
    var tickets = NameTable()
    var grouping = TicketGrouping()
    // The events as read, in position order, before `grouping` copies them to the parts.
    var bytes: [UInt8] = []
    var events: [RawReplayBatch.Event] = []
    var from: Int64 = 1
    do {
      // By ticket slot: the position of the ticket's last event (0 when the log has none there),
      // asked of the log's index for the tickets each batch meets first, once it is read.
      var ends: [Int64] = []
      // Room for a batch as large as the one before and an eighth more (at most 8 MiB: a batch of
      // large events grows past it as it must, and the next one does not reserve as much again).
      var reserve = min(Int(chunkSize), 32_768) * 256
      while from <= last {
        let through = min(last, from + chunkSize - 1)
        let firstNewSlot = tickets.names.count
        var newTickets: [String] = []
        events.removeAll(keepingCapacity: true)
        events.reserveCapacity(Int(through - from + 1))
        bytes.reserveCapacity(min(reserve, 8 << 20))
        var failure: (any Error)?
        do {
          try PartnerSyncError.wrap {
            // Not the version, time or hash: folding needs none of them.
            try log.store.forEachEventBytes(from: from, through: through, columns: []) { stored in
              let slot = Int32(tickets.slot(of: stored.stream) { newTickets.append($0) })
              let start = bytes.count
              bytes.append(contentsOf: stored.type)
              let typeEnd = bytes.count
              bytes.append(contentsOf: stored.actor)
              let actorEnd = bytes.count
              bytes.append(contentsOf: stored.data)
              events.append(
                RawReplayBatch.Event(
                  position: stored.position, slot: slot, start: start, typeEnd: typeEnd,
                  actorEnd: actorEnd, dataEnd: bytes.count))
              return true
            }
          }
        } catch {
          // The events read before the one that failed are still folded first: one of them that
          // the rules refuse is reported instead, as a fold in position order would.
          failure = error
        }
        // The new tickets' last positions (a log that cannot tell them fails the replay here,
        // before this batch is folded), then each ticket's last event marked. A ticket whose end
        // the log does not name is handed over, complete, when the replay ends.
        try PartnerSyncError.wrap {
          let found = try log.store.lastPositions(ofStreams: newTickets, through: last)
          ends += newTickets.indices.map { $0 < found.count ? found[$0] ?? 0 : 0 }
        }
        for index in events.indices where ends[Int(events[index].slot)] == events[index].position {
          events[index].slot = ~events[index].slot
        }
        reserve = bytes.count + bytes.count / 8
        let batch = RawReplayBatch(
          newTickets: newTickets, firstNewSlot: firstNewSlot,
          parts: grouping.parts(handoffs.count, events: events, bytes: bytes))
        bytes.removeAll(keepingCapacity: true)
        for handoff in handoffs {
          guard handoff.put(batch) else { return }
        }
        if let failure { throw failure }
        from = through + 1
      }
      for handoff in handoffs { handoff.finish() }
    } catch {
      for handoff in handoffs { handoff.finish(throwing: error) }
    }
  }
}
