/// Names (streams, tickets) numbered in the order they are first seen, looked up by their UTF-8
/// bytes: a hash of the bytes (``ByteHash``) picks the place in an open-addressing table, and
/// the bytes are compared, as SQLite compares names. Looking a known name up makes no string.
///
/// The append planner, `verify` and PartnerSync's replay and import all number the names they
/// meet with it.
package struct NameTable {
  /// A place of the table: the hash of a name, its slot + 1 (0 when free), its length and its
  /// first eight bytes, side by side so that a probe reads one cache line, and a name of up to
  /// eight bytes is recognised without reading the names' bytes elsewhere.
  @usableFromInline
  struct Place {
    @usableFromInline var hash: UInt64 = 0
    @usableFromInline var slot: Int32 = 0
    @usableFromInline var count: Int32 = 0
    @usableFromInline var head: UInt64 = 0

    @usableFromInline
    init(hash: UInt64 = 0, slot: Int32 = 0, count: Int32 = 0, head: UInt64 = 0) {
      self.hash = hash
      self.slot = slot
      self.count = count
      self.head = head
    }
  }

  /// The names, by slot.
  package private(set) var names: [String] = []
  /// The bytes of every name as stored, one after the other; `extents[slot]` locates one.
  @usableFromInline var nameBytes: [UInt8] = []
  @usableFromInline var extents: [(start: Int, count: Int)] = []
  @usableFromInline var places = [Place](repeating: Place(), count: 16)

  /// An empty table.
  package init() {}

  /// How many names the table holds.
  package var count: Int { names.count }

  /// The slot of the name whose UTF-8 bytes are `bytes`; a new name gets the next slot and is
  /// passed to `added`.
  @inlinable
  package mutating func slot(of bytes: UnsafeBufferPointer<UInt8>, added: (String) -> Void = { _ in }) -> Int {
    let hash = ByteHash.of(bytes)
    let found = find(bytes, hash: hash)
    return found.slot ?? insert(bytes, name: nil, hash: hash, at: found.place, added: added)
  }

  /// Where the name whose bytes are `bytes` is (its slot), or would go (a free place).
  @inlinable
  func find(_ bytes: UnsafeBufferPointer<UInt8>, hash: UInt64) -> (slot: Int?, place: Int) {
    let mask = places.count - 1
    var place = Int(truncatingIfNeeded: hash) & mask
    let count = Int32(clamping: bytes.count)
    let head = ByteHash.head(of: bytes)
    while places[place].slot != 0 {
      let slot = Int(places[place].slot) - 1
      if places[place].hash == hash, places[place].count == count, places[place].head == head,
        bytes.count <= 8 || stored(slot, equals: bytes)
      {
        return (slot, place)
      }
      place = (place + 1) & mask
    }
    return (nil, place)
  }

  /// The slot of `name`; a new name gets the next slot and is passed to `added`.
  @inlinable
  package mutating func slot(of name: String, added: (String) -> Void = { _ in }) -> Int {
    name.withUTF8Bytes { bytes in
      let hash = ByteHash.of(bytes)
      let found = find(bytes, hash: hash)
      return found.slot ?? insert(bytes, name: name, hash: hash, at: found.place, added: added)
    }
  }

  @inlinable
  func stored(_ slot: Int, equals bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    let extent = extents[slot]
    guard extent.count == bytes.count else { return false }
    return nameBytes.withUnsafeBufferPointer { all in
      extent.count == 0
        || all.baseAddress!.advanced(by: extent.start).elementsEqual(bytes.baseAddress!, count: extent.count)
    }
  }

  /// Adds the name whose bytes are `bytes` (and, when the caller has it, which is `name`).
  @usableFromInline
  mutating func insert(
    _ bytes: UnsafeBufferPointer<UInt8>, name: String?, hash: UInt64, at place: Int, added: (String) -> Void
  ) -> Int {
    let slot = names.count
    let name = name ?? String(decoding: bytes, as: UTF8.self)
    names.append(name)
    extents.append((nameBytes.count, bytes.count))
    nameBytes.append(contentsOf: bytes)
    places[place] = Place(
      hash: hash, slot: Int32(slot + 1), count: Int32(clamping: bytes.count), head: ByteHash.head(of: bytes))
    added(name)
    if names.count * 2 > places.count { grow() }
    return slot
  }

  private mutating func grow() {
    let old = places
    places = [Place](repeating: Place(), count: old.count * 2)
    let mask = places.count - 1
    for entry in old where entry.slot != 0 {
      var place = Int(truncatingIfNeeded: entry.hash) & mask
      while places[place].slot != 0 { place = (place + 1) & mask }
      places[place] = entry
    }
  }
}

extension UnsafePointer where Pointee == UInt8 {
  /// Whether the `count` bytes here equal those at `other`.
  @inlinable
  func elementsEqual(_ other: UnsafePointer<UInt8>, count: Int) -> Bool {
    var index = 0
    while index < count {
      if self[index] != other[index] { return false }
      index += 1
    }
    return true
  }
}
