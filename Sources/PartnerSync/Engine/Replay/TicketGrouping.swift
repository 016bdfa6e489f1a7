/// Orders the events of a batch ticket by ticket (a counting sort by ticket slot, stable), and
/// deals them out to the parts, reusing its working arrays from one batch to the next.
struct TicketGrouping {
  /// The events of `events` (their bytes in `bytes`) dealt out to `parts` parts by ticket slot
  /// (modulo `parts`): each part's events ticket by ticket (see `order(_:parts:)`), with their
  /// bytes copied in that order.
  mutating func parts(_ parts: Int, events: [RawReplayBatch.Event], bytes: [UInt8]) -> [RawReplayBatch.Part] {
    let (order, shares) = order(events, parts: parts)
    var start = 0
    return bytes.withUnsafeBufferPointer { bytes in
      shares.map { share in
        var part = RawReplayBatch.Part()
        part.bytes.reserveCapacity(share.bytes)
        part.events.reserveCapacity(share.events)
        for index in order[start..<start + share.events] {
          var event = events[Int(index)]
          let shift = part.bytes.count - event.start
          part.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[event.start..<event.dataEnd]))
          event.start += shift
          event.typeEnd += shift
          event.actorEnd += shift
          event.dataEnd += shift
          part.events.append(event)
        }
        start += share.events
        return part
      }
    }
  }

  /// For each ticket slot, its group in the batch being ordered + 1 (0: none yet).
  private var groupOf: [Int32] = []
  /// Each group's ticket slot, its events' bytes, and then where its events start in the order.
  private var groupSlots: [Int] = []
  private var groupBytes: [Int] = []
  private var starts: [Int32] = []
  /// Each event's group.
  private var groups: [Int32] = []

  /// The indices of `events`, part by part (the events of the tickets whose slot, modulo `parts`,
  /// is 0, then 1…): every event of one ticket, in position order, then those of the next ticket
  /// of the part (in the order they first appear in the batch). With each part's share: how many
  /// events, and how many bytes they hold.
  mutating func order(
    _ events: [RawReplayBatch.Event], parts: Int
  ) -> (order: [Int32], shares: [(events: Int, bytes: Int)]) {
    groups.removeAll(keepingCapacity: true)
    for event in events {
      let slot = event.ticketSlot
      if slot >= groupOf.count { groupOf.append(contentsOf: repeatElement(0, count: slot + 1 - groupOf.count)) }
      if groupOf[slot] == 0 {
        groupSlots.append(slot)
        groupBytes.append(0)
        starts.append(0)
        groupOf[slot] = Int32(groupSlots.count)
      }
      let group = Int(groupOf[slot]) - 1
      groups.append(Int32(group))
      starts[group] += 1
      groupBytes[group] += event.dataEnd - event.start
    }
    // Counts to starting places, part by part.
    var shares = [(events: Int, bytes: Int)](repeating: (0, 0), count: parts)
    var next: Int32 = 0
    for part in 0..<parts {
      let first = next
      for group in starts.indices where groupSlots[group] % parts == part {
        let size = starts[group]
        starts[group] = next
        next += size
        shares[part].bytes += groupBytes[group]
      }
      shares[part].events = Int(next - first)
    }
    var order = [Int32](repeating: 0, count: events.count)
    for (index, group) in groups.enumerated() {
      order[Int(starts[Int(group)])] = Int32(index)
      starts[Int(group)] += 1
    }
    for slot in groupSlots { groupOf[slot] = 0 }
    groupSlots.removeAll(keepingCapacity: true)
    groupBytes.removeAll(keepingCapacity: true)
    starts.removeAll(keepingCapacity: true)
    return (order, shares)
  }
}
