/// A stream name compared and hashed by its UTF-8 bytes.
///
/// Swift's `String` equality treats canonically equivalent strings (such as
/// a precomposed "é" and "e" followed by a combining accent) as equal, while
/// SQLite compares bytes. Keying by bytes keeps both backends and `verify`
/// in agreement with SQLite.
struct StreamKey: Hashable, Comparable, Sendable {
  /// The stream name.
  let name: String

  /// Wraps a stream name.
  init(_ name: String) {
    self.name = name
  }

  static func == (lhs: StreamKey, rhs: StreamKey) -> Bool {
    let left = lhs.name.utf8
    let right = rhs.name.utf8
    guard left.count == right.count else { return false }
    let equal = left.withContiguousStorageIfAvailable { leftBytes in
      right.withContiguousStorageIfAvailable { rightBytes in
        leftBytes.elementsEqual(rightBytes)
      }
    }
    return (equal ?? nil) ?? left.elementsEqual(right)
  }

  static func < (lhs: StreamKey, rhs: StreamKey) -> Bool {
    lhs.name.utf8.lexicographicallyPrecedes(rhs.name.utf8)
  }

  func hash(into hasher: inout Hasher) {
    let utf8 = name.utf8
    let hashed: Void? = utf8.withContiguousStorageIfAvailable { bytes in
      hasher.combine(bytes: UnsafeRawBufferPointer(bytes))
    }
    if hashed == nil {
      for byte in utf8 {
        hasher.combine(byte)
      }
    }
  }
}

extension Array where Element == String {
  /// The strings sorted by their UTF-8 bytes, the order SQLite's BINARY
  /// collation uses.
  func sortedByUTF8() -> [String] {
    sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
  }
}

/// The running version of each stream during an append: one lookup per
/// event, and a stream's stored version is asked for once.
///
/// The streams are found through an open-addressing table hashed
/// (``ByteHash``) and compared by their UTF-8 bytes, as SQLite compares them: a large
/// import looks a stream up for every event, and a `Dictionary`'s seeded
/// hashing of the name cost more than the rest of planning the event.
struct StreamVersions {
  /// The streams that received events, with their running versions.
  private var names: [String] = []
  private var versions: [Int64] = []
  private var hashes: [UInt64] = []
  /// Each place holds an index into `names` + 1, or 0 when free; at most
  /// half full, a power of two long.
  private var places = [Int32](repeating: 0, count: 16)
  /// Stored versions known without asking the log.
  private let known: [StreamKey: Int64]

  /// Starts with the stored versions of the streams in `known` (for example
  /// the streams whose expected versions were just checked), which are then
  /// not loaded again.
  init(known: [StreamKey: Int64] = [:]) {
    self.known = known
  }

  /// The version the next event of `stream` gets; `load` reads the stream's
  /// stored version the first time the stream appears.
  @inline(__always)
  mutating func next(for stream: String, load: (String) throws -> Int64) rethrows -> Int64 {
    let hash = ByteHash.of(stream)
    let mask = places.count - 1
    var place = Int(truncatingIfNeeded: hash) & mask
    while places[place] != 0 {
      let index = Int(places[place]) - 1
      if hashes[index] == hash, Self.sameBytes(names[index], stream) {
        versions[index] += 1
        return versions[index]
      }
      place = (place + 1) & mask
    }
    let version = try (known[StreamKey(stream)] ?? load(stream)) + 1
    places[place] = Int32(names.count + 1)
    names.append(stream)
    versions.append(version)
    hashes.append(hash)
    if names.count * 2 > places.count { grow() }
    return version
  }

  private mutating func grow() {
    places = [Int32](repeating: 0, count: places.count * 2)
    let mask = places.count - 1
    for index in hashes.indices {
      var place = Int(truncatingIfNeeded: hashes[index]) & mask
      while places[place] != 0 { place = (place + 1) & mask }
      places[place] = Int32(index + 1)
    }
  }

  private static func sameBytes(_ a: String, _ b: String) -> Bool {
    StreamKey(a) == StreamKey(b)
  }

  /// The final version of every stream that received events.
  func finalVersions() -> [String: Int64] {
    var result: [String: Int64] = [:]
    result.reserveCapacity(names.count)
    for index in names.indices {
      result[names[index]] = versions[index]
    }
    return result
  }
}
