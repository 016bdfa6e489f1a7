/// A fast hash of short byte strings (stream names, ticket numbers, entry ids) for the
/// open-addressing tables of the hot paths, which compare the bytes themselves on a match.
///
/// FNV-1a, with a final mix so that the low bits, which pick a table's place, vary. It is not
/// seeded: the tables hold names from the log and its input, and a probe sequence made long on
/// purpose costs time, never correctness.
package enum ByteHash {
  /// The hash of `bytes`.
  @inlinable
  package static func of(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in bytes {
      hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
    }
    hash ^= hash >> 29
    hash = hash &* 0xBF58_476D_1CE4_E5B9
    return hash ^ (hash >> 32)
  }

  /// The hash of the UTF-8 bytes of `text`.
  @inlinable
  package static func of(_ text: String) -> UInt64 {
    text.withUTF8Bytes { of($0) }
  }

  /// The first eight bytes of `bytes` (fewer, then zeros, for a shorter string) in one word, as
  /// memory holds them: with the length, it tells most short names apart without reading them
  /// again (`NameTable`, replay's recent actors).
  @inlinable
  package static func head(of bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
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
