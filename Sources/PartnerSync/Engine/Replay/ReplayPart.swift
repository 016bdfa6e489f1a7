import EventLog
import Foundation
import PartnerSyncDomain

/// One part of a replay's tickets (those whose slot, modulo the number of parts, is `part`),
/// decoded and folded one batch at a time on one thread: the strings and projections a part makes
/// are also freed on its thread.
///
/// A batch's events come ticket by ticket (see `TicketGrouping`): each projection is then folded
/// several events in a row while it is in the processor's cache, where position order would move
/// to another ticket at nearly every event. Tickets are independent, so the result is the same;
/// the projections finished in a batch are handed over in the order of their last events, and an
/// event that cannot be read or that the rules refuse is reported as a fold in position order
/// would report it: the first in the log, with only the tickets finished before it handed over.
struct ReplayPart: Sendable {
  /// What folding a batch gave.
  struct Result: Sendable {
    /// The projections the batch finished, by the position of their last event.
    var finished: [(position: Int64, projection: TicketProjection)] = []
    /// The first event that could not be read or that the rules refused, if any: the events of the
    /// part after it are not folded, and `finished` holds only the projections finished before it.
    var refused: (position: Int64, error: PartnerSyncError)?
  }

  let log: PartnerSyncLog
  let part: Int
  let parts: Int
  /// The part's tickets by slot / `parts`, and their projections while under way (`nil` before the
  /// first event and once handed over).
  var names: [String] = []
  var projections: [TicketProjection?] = []
  private var actors = ActorNames()

  init(log: PartnerSyncLog, part: Int, of parts: Int) {
    self.log = log
    self.part = part
    self.parts = parts
  }

  /// Decodes and folds the part's events of `batch`.
  mutating func fold(_ batch: RawReplayBatch) -> Result {
    var slot = batch.firstNewSlot
    for name in batch.newTickets {
      if slot % parts == part {
        names.append(name)
        projections.append(nil)
      }
      slot += 1
    }
    var result = Result()
    var skipped = -1
    let mine = batch.parts[part]
    mine.bytes.withUnsafeBufferPointer { bytes in
      for raw in mine.events {
        let local = raw.ticketSlot / parts
        if local == skipped { continue }
        if let first = result.refused, first.position < raw.position {
          // A later event than one already refused: the replay stops before it.
          skipped = local
          continue
        }
        func span(_ start: Int, _ end: Int) -> UnsafeBufferPointer<UInt8> {
          UnsafeBufferPointer(rebasing: bytes[start..<end])
        }
        let empty = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
        let stored = StoredEventBytes(
          position: raw.position, version: 0, time: 0, stream: empty,
          type: span(raw.start, raw.typeEnd), actor: empty, data: span(raw.actorEnd, raw.dataEnd), hash: empty)
        do throws(PartnerSyncError) {
          let event = try log.decodeEvent(
            stored, ticket: names[local], actor: actors.name(span(raw.typeEnd, raw.actorEnd)))
          if projections[local] == nil {
            projections[local] = TicketProjection(ticket: names[local], rules: log.rules)
          }
          do throws(RefusedEvent) {
            try projections[local]!.apply(event, position: raw.position)
          } catch {
            throw PartnerSyncLog.refusedOnReplay(error, position: raw.position)
          }
        } catch {
          result.refused = (raw.position, error)
          skipped = local
          continue
        }
        if raw.isLast {
          result.finished.append((raw.position, projections[local].take()!))
        }
      }
    }
    result.finished.sort { $0.position < $1.position }
    if let refused = result.refused { result.finished.removeAll { $0.position > refused.position } }
    return result
  }

  /// Folds each batch of `input`, putting each result in `output`, until `input` ends; returns
  /// the part, with the projections still under way, once it has.
  func run(from input: Handoff<RawReplayBatch>, into output: Handoff<Result>) -> ReplayPart {
    var part = self
    while let batch = try? input.take() {
      guard output.put(part.fold(batch)) else { break }
      _ = output.takeBack()  // the projections handed over since: freed here, where they were made
    }
    output.finish()
    return part
  }
}
