import EventLog
import Foundation
import PartnerSyncDomain

/// The latest projections of the tickets a log wrote recently, so that recording one more event
/// on a ticket does not fold its whole history again.
///
/// An entry may be stale (another process appended since): a write based on it names the version
/// it expects, the log refuses it with a version conflict, and the writer folds the ticket from
/// the log again. The cache holds at most `capacity` tickets and drops the least recently used.
final class ProjectionCache: @unchecked Sendable {
  // @unchecked Sendable: `entries` and `clock` are read and written while holding `lock`.

  private let lock = NSLock()
  let capacity: Int
  private var entries: [TicketKey: (projection: TicketProjection, used: UInt64)] = [:]
  private var clock: UInt64 = 0

  init(capacity: Int) {
    self.capacity = capacity
  }

  /// Removes and returns the cached projection of `ticket`, if any: its writer then holds the only
  /// reference to its storage, so folding new events into it changes it in place.
  func take(_ ticket: String) -> TicketProjection? {
    lock.lock()
    defer { lock.unlock() }
    return entries.removeValue(forKey: TicketKey(name: ticket))?.projection
  }

  /// A copy of the cached projection of `ticket`, if any, left in the cache: for a read, which
  /// must check that the log holds no later event of the ticket (another process may have
  /// appended since).
  func peek(_ ticket: String) -> TicketProjection? {
    lock.lock()
    defer { lock.unlock() }
    let key = TicketKey(name: ticket)
    guard let entry = entries[key] else { return nil }
    clock += 1
    entries[key] = (entry.projection, clock)
    return entry.projection
  }

  /// Keeps `projections` (the latest of their tickets); of a batch larger than the cache, the
  /// ones whose last event is latest.
  func store(_ projections: [TicketProjection]) {
    // Sorting indices rather than projections spares moving (and reference counting) every
    // projection of a large import.
    var kept = Array(projections.indices)
    if projections.count > capacity {
      kept.sort { projections[$0].position > projections[$1].position }
      kept.removeLast(kept.count - capacity)
    }
    lock.lock()
    defer { lock.unlock() }
    for index in kept.reversed() {
      clock += 1
      entries[TicketKey(name: projections[index].ticket)] = (projections[index], clock)
    }
    while entries.count > capacity {
      let oldest = entries.min { $0.value.used < $1.value.used }!.key
      entries.removeValue(forKey: oldest)
    }
  }

  /// Forgets `tickets` (after a version conflict on them).
  func remove(_ tickets: some Sequence<String>) {
    lock.lock()
    defer { lock.unlock() }
    for ticket in tickets {
      entries.removeValue(forKey: TicketKey(name: ticket))
    }
  }
}
/// A ticket number compared and hashed by its UTF-8 bytes, as the log compares stream names.
struct TicketKey: Hashable {
  let name: String

  static func == (lhs: TicketKey, rhs: TicketKey) -> Bool {
    JSONValue.utf8Equal(lhs.name, rhs.name)
  }

  func hash(into hasher: inout Hasher) {
    name.withUTF8Bytes { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
  }
}
