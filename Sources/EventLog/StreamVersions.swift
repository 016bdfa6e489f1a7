/// The running version of each stream during an append: one lookup per event (in a
/// ``NameTable``, by the name's bytes), and a stream's stored version is asked for once.
package struct StreamVersions {
  private var streams = NameTable()
  /// The running version of each stream, by its slot in `streams`.
  private var versions: [Int64] = []
  /// Stored versions known without asking the log; used for a stream whose name has the same
  /// bytes as the key.
  private let known: [String: Int64]

  /// Starts with the stored versions in `known` (the versions just checked), which are then not
  /// loaded again.
  package init(known: [String: Int64] = [:]) {
    self.known = known
  }

  /// Throws a version conflict for the first stream (in byte order) of `expected` whose version
  /// (as `current` reads it) differs from the expected one.
  package static func check(_ expected: [String: Int64], current: (String) throws -> Int64) throws {
    for stream in Array(expected.keys).sortedByUTF8() {
      let expectedVersion = expected[stream] ?? 0
      let actual = try current(stream)
      if actual != expectedVersion {
        throw EventLogError.versionConflict(stream: stream, expected: expectedVersion, actual: actual)
      }
    }
  }

  /// The version the next event of the stream named by the UTF-8 bytes `stream` gets; `load`
  /// reads the stream's stored version the first time the stream appears.
  @inline(__always)
  package mutating func next(for stream: UnsafeBufferPointer<UInt8>, load: (String) throws -> Int64) rethrows -> Int64 {
    let slot = streams.slot(of: stream)
    if slot < versions.count {
      versions[slot] += 1
    } else {
      let stream = streams.names[slot]
      var stored: Int64?
      // Swift compares strings by canonical equivalence, SQLite by bytes.
      if let index = known.index(forKey: stream), known[index].key.utf8.elementsEqual(stream.utf8) {
        stored = known[index].value
      }
      versions.append(try (stored ?? load(stream)) + 1)
    }
    return versions[slot]
  }

  /// The final version of every stream that received events.
  package func finalVersions() -> [String: Int64] {
    var result: [String: Int64] = [:]
    result.reserveCapacity(versions.count)
    for (slot, name) in streams.names.enumerated() {
      result[name] = versions[slot]
    }
    return result
  }
}
