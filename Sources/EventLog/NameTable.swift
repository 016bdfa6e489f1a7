import Foundation

/// Names (streams, tickets) numbered in the order they are first seen, looked up by their UTF-8
/// bytes, which are compared as SQLite compares names. Looking a known name up makes no string.
///
/// The append, `verify` and PartnerSync's replay and import all number the names they meet with
/// it. A hash of the bytes (FNV-1a with a final mix, not seeded: a probe sequence made long on
/// purpose costs time, never correctness) picks a place in an open-addressing table.
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
  }

  /// The names, by slot.
  package private(set) var names: [String] = []
  /// The bytes of every name, one after the other; `extents[slot]` locates one.
  @usableFromInline var nameBytes: [UInt8] = []
  @usableFromInline var extents: [(start: Int, count: Int)] = []
  @usableFromInline var places = [Place](repeating: Place(), count: 16)

  /// An empty table.
  package init() {}

  /// The slot of the name whose UTF-8 bytes are `bytes`; a new name gets the next slot and is
  /// passed to `added`.
  @inlinable
  package mutating func slot(of bytes: UnsafeBufferPointer<UInt8>, added: (String) -> Void = { _ in }) -> Int {
    slot(of: bytes, name: nil, added: added)
  }

  /// The slot of `name`; a new name gets the next slot and is passed to `added`.
  @inlinable
  package mutating func slot(of name: String, added: (String) -> Void = { _ in }) -> Int {
    name.withUTF8Bytes { slot(of: $0, name: name, added: added) }
  }

  /// The slot of the name whose bytes are `bytes` (and which is `name`, when the caller has it).
  @inlinable
  mutating func slot(of bytes: UnsafeBufferPointer<UInt8>, name: String?, added: (String) -> Void) -> Int {
    let hash = Self.hash(of: bytes)
    let count = Int32(clamping: bytes.count)
    let head = Self.head(of: bytes)
    let mask = places.count - 1
    var place = Int(truncatingIfNeeded: hash) & mask
    while places[place].slot != 0 {
      let slot = Int(places[place].slot) - 1
      if places[place].hash == hash, places[place].count == count, places[place].head == head,
        bytes.count <= 8 || stored(slot, equals: bytes)
      {
        return slot
      }
      place = (place + 1) & mask
    }
    return insert(bytes, name: name, at: Place(hash: hash, slot: 0, count: count, head: head), place, added: added)
  }

  @inlinable
  func stored(_ slot: Int, equals bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    let extent = extents[slot]
    return extent.count == bytes.count
      && nameBytes.withUnsafeBufferPointer {
        memcmp($0.baseAddress! + extent.start, bytes.baseAddress!, bytes.count) == 0
      }
  }

  /// Adds the name whose bytes are `bytes` at `place`, filled in but for the slot.
  @usableFromInline
  mutating func insert(
    _ bytes: UnsafeBufferPointer<UInt8>, name: String?, at entry: Place, _ place: Int, added: (String) -> Void
  ) -> Int {
    let slot = names.count
    let name = name ?? String(decoding: bytes, as: UTF8.self)
    names.append(name)
    extents.append((nameBytes.count, bytes.count))
    nameBytes.append(contentsOf: bytes)
    places[place] = entry
    places[place].slot = Int32(slot + 1)
    added(name)
    if names.count * 2 > places.count {
      let old = places
      places = [Place](repeating: Place(), count: old.count * 2)
      let mask = places.count - 1
      for entry in old where entry.slot != 0 {
        var place = Int(truncatingIfNeeded: entry.hash) & mask
        while places[place].slot != 0 { place = (place + 1) & mask }
        places[place] = entry
      }
    }
    return slot
  }

  /// The hash of `bytes`.
  @inlinable
  static func hash(of bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in bytes {
      hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
    }
    hash ^= hash >> 29
    hash = hash &* 0xBF58_476D_1CE4_E5B9
    return hash ^ (hash >> 32)
  }

  /// The first eight bytes of `bytes` (fewer, then zeros, for a shorter name) in one word.
  @inlinable
  static func head(of bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
    guard let base = bytes.baseAddress else { return 0 }
    if bytes.count >= 8 { return UnsafeRawPointer(base).loadUnaligned(as: UInt64.self) }
    var head: UInt64 = 0
    withUnsafeMutableBytes(of: &head) { $0.copyMemory(from: UnsafeRawBufferPointer(bytes)) }
    return head
  }
}

extension String {
  /// Lends the string's UTF-8 bytes to `body`, valid only during `body`, without copying the
  /// string: in place, or from the stack for a small string (a string bridged from elsewhere is
  /// copied first). Unlike `withUTF8`, which needs a `var`, copying the string into one first
  /// costs reference counts.
  @inlinable
  package func withUTF8Bytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
    if let result = try utf8.withContiguousStorageIfAvailable(body) { return result }
    var copy = self
    return try copy.withUTF8(body)
  }
}

extension String {
  /// Whether the string's UTF-8 bytes sort before those of `other`, as SQLite's BINARY collation
  /// sorts them.
  package func precedesInUTF8(_ other: String) -> Bool {
    withUTF8Bytes { a in
      other.withUTF8Bytes { b in
        let common = Swift.min(a.count, b.count)
        let order = common == 0 ? 0 : memcmp(a.baseAddress!, b.baseAddress!, common)
        return order != 0 ? order < 0 : a.count < b.count
      }
    }
  }
}

extension Array where Element == String {
  /// The strings sorted by their UTF-8 bytes, the order SQLite's BINARY collation uses.
  package func sortedByUTF8() -> [String] {
    sorted { $0.precedesInUTF8($1) }
  }
}
