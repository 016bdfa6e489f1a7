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

/// The running version of each stream during an append.
///
/// Batches often hold long runs of one stream, so the current stream's
/// version is kept aside and the dictionary is only touched when the stream
/// changes.
struct StreamVersions {
  private var versions: [StreamKey: Int64] = [:]
  private var current: StreamKey?
  private var currentVersion: Int64 = 0

  /// The version the next event of `stream` gets; `load` reads the stream's
  /// stored version the first time the stream appears.
  @inline(__always)
  mutating func next(for stream: String, load: (String) throws -> Int64) rethrows -> Int64 {
    if let current, current.name == stream, StreamKey(stream) == current {
      currentVersion += 1
      return currentVersion
    }
    if let current {
      versions[current] = currentVersion
    }
    let key = StreamKey(stream)
    let stored = try versions[key] ?? load(stream)
    current = key
    currentVersion = stored + 1
    return currentVersion
  }

  /// The final version of every stream seen.
  mutating func finalVersions() -> [String: Int64] {
    if let current {
      versions[current] = currentVersion
      self.current = nil
    }
    var result: [String: Int64] = [:]
    for (key, version) in versions {
      result[key.name] = version
    }
    return result
  }
}
