import EventLog

/// The status of one engagement (one attempt to outsource a ticket to one service partner).
public enum OutsourceStatus: String, Sendable, Hashable, CaseIterable {
  /// Sent; the partner has not answered. No partner version exists yet.
  case assigned
  /// Refused by the partner (final).
  case declined
  /// Withdrawn by the lead before an answer (final).
  case cancelled
  /// Accepted; sync is active.
  case accepted
  /// The partner works the ticket; sync is active.
  case inProgress = "in-progress"
  /// The partner declared the work complete; sync is suspended.
  case waitingApproval = "waiting-approval"
  /// Over; sync has ended for good.
  case complete

  /// Whether the engagement still blocks a new one.
  public var isOpen: Bool {
    switch self {
    case .assigned, .accepted, .inProgress, .waitingApproval: true
    case .declined, .cancelled, .complete: false
    }
  }

  /// Whether the partner was ever accepted (`accepted` or later), and so holds a version.
  public var hasVersion: Bool {
    switch self {
    case .accepted, .inProgress, .waitingApproval, .complete: true
    case .assigned, .declined, .cancelled: false
    }
  }
}

/// One engagement of a ticket as its history has left it so far: its number, its service partner
/// and its status. A read-only summary for reports (the audit diagram draws one note per
/// engagement).
public struct EngagementSummary: Sendable, Hashable {
  /// The engagement's number on the ticket: 1, 2, 3…
  public var number: Int
  /// The service partner the ticket was outsourced to.
  public var partner: String
  /// The engagement's status now.
  public var status: OutsourceStatus

  /// Creates a summary.
  public init(number: Int, partner: String, status: OutsourceStatus) {
    self.number = number
    self.partner = partner
    self.status = status
  }
}

/// Whose version of the ticket: the lead's, or the service partner's of one engagement.
enum Side: Hashable, Sendable {
  case lead
  case engagement(Int)
}

/// An entry as it exists in one version.
///
/// Its id and owner are its record's (``EntryRecords``, by `slot`): a copy has its original's
/// id and owner. Keeping them out of the version makes an entry plain values and one box, which
/// is copied and freed without touching a string.
struct VersionEntry: Sendable, Hashable {
  /// The entry's slot in the ticket's ``EntryRecords``.
  var slot: Int32
  var isCopy: Bool
  var severed: Bool
  var content: EntryContent
  var convertedFrom: EntryKind?
  var system: Bool
  /// For a copy in the lead's version: the engagement whose partner version it came from.
  var sourceEngagement: Int?
}

/// One version of the ticket: its entries by slot (see ``EntryRecords``), in their order of
/// appearance.
struct TicketVersion: Sendable {
  /// The entries present, by slot.
  var entries = VersionEntries()

  /// Adds `entry` at the end of the version.
  mutating func append(_ entry: consuming VersionEntry) {
    entries.append(entry)
  }

  /// The entries in order of appearance (kept in that order: nothing to sort).
  var ordered: [VersionEntry] { entries.ordered }
}

/// The entries of one version, kept in the order they appeared, each found by its slot through
/// an index: a lookup is an array access, not a hash.
///
/// An entry removed from the version stays in `appeared`, no longer indexed, and one added again
/// is appended anew, so that it appears at the end.
struct VersionEntries: Sendable {
  /// Every entry that appeared, in that order: the one at a place is still held when its slot's
  /// place is that place (an entry removed, or added again later, has left it).
  private var appeared: [VersionEntry] = []
  /// For each slot, the place in `appeared` of its entry, or -1 when the version does not hold it.
  private var places: [Int32] = []
  /// How many entries the version holds.
  private(set) var count = 0

  @inline(__always)
  private func place(of slot: Int) -> Int? {
    guard slot < places.count else { return nil }
    let place = Int(places[slot])
    return place >= 0 ? place : nil
  }

  /// Whether the version holds the entry in `slot`.
  func contains(_ slot: Int) -> Bool { place(of: slot) != nil }

  /// The entry in `slot`, or `nil` when the version does not hold it.
  subscript(slot: Int) -> VersionEntry? {
    place(of: slot).map { appeared[$0] }
  }

  /// The kind of the entry in `slot` (`.some(nil)` when it has none), or `nil` when the version
  /// does not hold it; nothing is copied.
  func kind(of slot: Int) -> EntryKind?? {
    guard let place = place(of: slot) else { return nil }
    return .some(appeared[place].content.kind)
  }

  /// Changes the entry in `slot` in place, if the version holds it.
  mutating func update(_ slot: Int, _ body: (inout VersionEntry) -> Void) {
    guard let place = place(of: slot) else { return }
    body(&appeared[place])
  }

  /// Removes the entry in `slot`, if the version holds it.
  mutating func removeValue(forSlot slot: Int) {
    guard place(of: slot) != nil else { return }
    places[slot] = -1
    count -= 1
  }

  /// Adds `entry` at the end, replacing the one in its slot if there is one.
  mutating func append(_ entry: consuming VersionEntry) {
    let slot = Int(entry.slot)
    removeValue(forSlot: slot)
    if appeared.isEmpty {
      // A version holds a few dozen entries: start there rather than growing from one.
      appeared.reserveCapacity(TicketProjection.initialCapacity)
      places.reserveCapacity(TicketProjection.initialCapacity)
    }
    while places.count <= slot { places.append(-1) }
    places[slot] = Int32(appeared.count)
    appeared.append(entry)
    count += 1
  }

  /// The slots the version holds.
  var slots: [Int] { places.indices.filter { places[$0] >= 0 } }

  /// The entries the version holds, in order of appearance.
  var ordered: [VersionEntry] {
    var result: [VersionEntry] = []
    result.reserveCapacity(count)
    for place in appeared.indices where places[Int(appeared[place].slot)] == place {
      result.append(appeared[place])
    }
    return result
  }
}

/// A set of entry slots.
struct SlotSet: Sendable, Hashable {
  private var words: [UInt64] = []

  init() {}

  init(_ slots: some Sequence<Int>) {
    for slot in slots { insert(slot) }
  }

  func contains(_ slot: Int) -> Bool {
    let word = slot >> 6
    return word < words.count && words[word] & (1 << UInt64(slot & 63)) != 0
  }

  /// Adds `slot`; `true` when it was not in the set yet.
  @discardableResult
  mutating func insert(_ slot: Int) -> Bool {
    let word = slot >> 6
    if word >= words.count { words.append(contentsOf: repeatElement(0, count: word - words.count + 1)) }
    let bit: UInt64 = 1 << UInt64(slot & 63)
    guard words[word] & bit == 0 else { return false }
    words[word] |= bit
    return true
  }
}

/// A change held while an engagement waits for approval.
struct HeldChange: Sendable, Hashable {
  var position: Int64
  var slot: Int
  var kind: EntryKind
  /// The partners, by their numbers in the projection (`TicketProjection.partnerNumber(_:)`).
  var by: Int32
  var to: Int32
}

/// One engagement's state.
struct EngagementState: Sendable {
  var number: Int
  var partner: String
  /// The partner's number in the projection (`TicketProjection.partnerNumber(_:)`).
  var partnerNumber: Int32 = 0
  var resource: String?
  var rate: Double?
  var status: OutsourceStatus = .assigned
  /// The partner's version, from acceptance on.
  var version: TicketVersion?
  /// Changes held while waiting for approval, in the order they were held.
  var held: [HeldChange] = []
  /// Entries the partner held when it requested completion: it may not change them while waiting.
  var frozen = SlotSet()
  /// Entries whose link (between the owner's entry and its copy) is severed in this engagement.
  var severed = SlotSet()

  // The partner's version is looked into here, where it is read in place: through an optional
  // chain from outside, the version (its three arrays) would be copied and released each time.

  /// Whether the partner's version holds the entry in `slot`.
  func holds(_ slot: Int) -> Bool {
    guard let version else { return false }
    return version.entries.contains(slot)
  }

  /// The kind of the entry in `slot` as the partner's version holds it (see
  /// ``VersionEntries/kind(of:)``), or `nil` when it does not hold it.
  func kind(ofEntry slot: Int) -> EntryKind?? {
    guard let version else { return nil }
    return version.entries.kind(of: slot)
  }
}

/// An entry as its owner keeps it: the state that copies follow.
struct EntryRecord: Sendable {
  var id: String
  var owner: String
  var home: Side
  var content: EntryContent
  var deleted = false
}

/// Every entry of a ticket as its owner keeps it, each in a slot numbered in the order the
/// entries were added (0, 1, 2…).
///
/// The projection looks an entry's id up once per event and then works with its slot: the
/// versions, the severed links and the held changes all key their entries by slot, so that
/// folding a large history does not hash the same id a dozen times per event. The ids are found
/// through a small open-addressing table hashed (`ByteHash`) and compared by their UTF-8 bytes, as
/// the log compares names: a fraction of a `Dictionary`'s seeded hashing for short ids. (Unlike
/// EventLog's `NameTable`, it keeps no copy of the ids: a projection's table is small, one per
/// ticket, and compares against its records.)
struct EntryRecords: Sendable {
  /// A place of the table: an id's hash and its slot + 1 (0 when free), side by side so that a
  /// probe reads one cache line and looks at a record only when the hashes agree.
  private struct Place: Sendable {
    var hash: UInt64 = 0
    var slot: Int32 = 0
  }

  private var records: [EntryRecord] = []
  /// Open addressing, at most half full, a power of two long.
  private var places: [Place] = []

  /// The slot of entry `id`, or `nil` when no entry has that id.
  func slot(of id: String) -> Int? {
    guard !places.isEmpty else { return nil }
    return find(id, hash: ByteHash.of(id)).slot
  }

  /// Where `id` is (its slot) or would go (a free place).
  private func find(_ id: String, hash: UInt64) -> (slot: Int?, place: Int) {
    let mask = places.count - 1
    var place = Int(truncatingIfNeeded: hash) & mask
    while places[place].slot != 0 {
      let slot = Int(places[place].slot) - 1
      if places[place].hash == hash, JSONValue.utf8Equal(records[slot].id, id) { return (slot, place) }
      place = (place + 1) & mask
    }
    return (nil, place)
  }

  /// The record in `slot`.
  subscript(slot slot: Int) -> EntryRecord {
    _read { yield records[slot] }
    _modify { yield &records[slot] }
  }

  /// The record of entry `id`, or `nil` when there is none.
  subscript(id: String) -> EntryRecord? {
    slot(of: id).map { records[$0] }
  }

  /// Adds the record of a new entry (or replaces the one with its id) and returns its slot.
  mutating func add(_ record: consuming EntryRecord) -> Int {
    if (records.count + 1) * 2 > places.count { grow() }
    let hash = ByteHash.of(record.id)
    let found = find(record.id, hash: hash)
    if let slot = found.slot {
      records[slot] = record
      return slot
    }
    let slot = records.count
    records.append(record)
    places[found.place] = Place(hash: hash, slot: Int32(slot + 1))
    return slot
  }

  private mutating func grow() {
    if records.isEmpty { records.reserveCapacity(32) }
    let old = places
    places = [Place](repeating: Place(), count: max(64, places.count * 2))
    let mask = places.count - 1
    for entry in old where entry.slot != 0 {
      var place = Int(truncatingIfNeeded: entry.hash) & mask
      while places[place].slot != 0 { place = (place + 1) & mask }
      places[place] = entry
    }
  }

  /// The ids of every entry, in the order they were added.
  var keys: [String] { records.map(\.id) }
}
