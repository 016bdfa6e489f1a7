/// Bytes appended one after the other into memory of their own, which doubles when it fills.
///
/// The memory is the owner's to free (`deallocate()`), once no one reads it any more: an
/// append's chunk of events and a replay's batch each gather their events' bytes in one, copied
/// once each, and are handed from thread to thread as one object.
package struct GrowingBytes {
  /// Where the bytes start.
  package private(set) var base: UnsafeMutablePointer<UInt8>
  /// How many bytes there are.
  package private(set) var count = 0
  @usableFromInline var capacity: Int

  /// Empty, with room for `capacity` bytes (at least 64) before it grows.
  package init(capacity: Int) {
    self.capacity = max(capacity, 64)
    base = .allocate(capacity: self.capacity)
  }

  /// Makes room for `n` more bytes, so that appending them does not grow the memory.
  @inlinable
  @inline(__always)
  package mutating func reserve(_ n: Int) {
    if n > capacity &- count { grow(toHold: count + n) }
  }

  /// Appends `bytes`.
  @inlinable
  @inline(__always)
  package mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
    reserve(bytes.count)
    if let source = bytes.baseAddress { (base + count).initialize(from: source, count: bytes.count) }
    count &+= bytes.count
  }

  /// Forgets the bytes, keeping the memory.
  package mutating func removeAll() {
    count = 0
  }

  /// Frees the memory; the value must not be used again.
  package func deallocate() {
    base.deallocate()
  }

  /// The bytes.
  package var buffer: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }

  @usableFromInline
  mutating func grow(toHold needed: Int) {
    var larger = capacity * 2
    while larger < needed { larger *= 2 }
    let moved = UnsafeMutablePointer<UInt8>.allocate(capacity: larger)
    moved.moveInitialize(from: base, count: count)
    base.deallocate()
    base = moved
    capacity = larger
  }
}
