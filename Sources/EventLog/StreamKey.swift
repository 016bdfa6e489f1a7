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
  package func sortedByUTF8() -> [String] {
    sorted { first, second in
      // Compared where the bytes lie (a comparison through `utf8`'s iterators costs about 500
      // instructions for two short names: an import into a new log sorts thousands).
      first.withUTF8Bytes { a in
        second.withUTF8Bytes { b in
          let common = Swift.min(a.count, b.count)
          var index = 0
          while index < common {
            if a[index] != b[index] { return a[index] < b[index] }
            index += 1
          }
          return a.count < b.count
        }
      }
    }
  }
}

/// The running version of each stream during an append: one lookup per
/// event (in a ``NameTable``, by the name's bytes), and a stream's stored
/// version is asked for once.
struct StreamVersions {
  private var streams = NameTable()
  /// The running version of each stream, by its slot in `streams`.
  private var versions: [Int64] = []
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
    try next(at: streams.slot(of: stream), load: load)
  }

  /// The version the next event of the stream named by the UTF-8 bytes
  /// `stream` gets, like ``next(for:load:)``.
  @inline(__always)
  mutating func next(for stream: UnsafeBufferPointer<UInt8>, load: (String) throws -> Int64) rethrows -> Int64 {
    try next(at: streams.slot(of: stream), load: load)
  }

  @inline(__always)
  private mutating func next(at slot: Int, load: (String) throws -> Int64) rethrows -> Int64 {
    if slot < versions.count {
      versions[slot] += 1
    } else {
      let stream = streams.names[slot]
      versions.append(try (known[StreamKey(stream)] ?? load(stream)) + 1)
    }
    return versions[slot]
  }

  /// The final version of every stream that received events.
  func finalVersions() -> [String: Int64] {
    var result: [String: Int64] = [:]
    result.reserveCapacity(versions.count)
    for (slot, name) in streams.names.enumerated() {
      result[name] = versions[slot]
    }
    return result
  }
}
