import Crypto

/// The SHA-256 hash chain that links every event to its predecessor.
///
/// `hash(n) = SHA256(hash(n-1) ‖ canonicalBytes(event n))`, with `hash(0)`
/// 32 zero bytes. The canonical bytes of an event are, in this order:
/// position, stream, version, type, actor, time, data, where integers are
/// 8-byte little-endian and strings are their UTF-8 length as an 8-byte
/// little-endian integer followed by the UTF-8 bytes.
///
/// Both backends and ``EventLogReader/verify()`` use this type, so the chain
/// is defined in one place. It reuses one buffer for all events and does not
/// use Foundation.
///
/// ```swift
/// var chain = EventHashChain()
/// chain.append(position: 1, stream: "a", version: 1, type: "t", actor: "me", time: 0, data: "{}")
/// let hash = chain.lastHash  // the hash stored with event 1
/// ```
public struct EventHashChain: Sendable {
  /// The size of a chain link in bytes.
  public static let hashSize = 32

  /// The link before the first event: 32 zero bytes.
  public static let genesis = [UInt8](repeating: 0, count: hashSize)

  /// The first `hashSize` bytes hold the last link; the bytes after them are
  /// scratch space for the canonical bytes of the next event.
  private var buffer: [UInt8]

  /// Starts a chain at the beginning of a log.
  public init() {
    buffer = EventHashChain.genesis
    buffer.reserveCapacity(1024)
  }

  /// Continues a chain after an event whose hash is `lastHash`, or returns nil
  /// when `lastHash` is not 32 bytes long.
  public init?(lastHash: [UInt8]) {
    guard lastHash.count == EventHashChain.hashSize else { return nil }
    buffer = lastHash
    buffer.reserveCapacity(1024)
  }

  /// The hash of the last event appended to the chain (32 bytes).
  public var lastHash: [UInt8] { Array(buffer[0..<EventHashChain.hashSize]) }

  /// Calls `body` with the last hash without copying it.
  public func withLastHash<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows
    -> Result
  {
    try buffer.withUnsafeBytes { bytes in
      try body(UnsafeRawBufferPointer(rebasing: bytes[0..<EventHashChain.hashSize]))
    }
  }

  /// Whether `hash` equals the last hash of the chain.
  public func lastHashEquals(_ hash: [UInt8]) -> Bool {
    guard hash.count == EventHashChain.hashSize else { return false }
    return buffer.withUnsafeBufferPointer { bytes in
      hash.withUnsafeBufferPointer { other in
        bytes[0..<EventHashChain.hashSize].elementsEqual(other)
      }
    }
  }

  /// Extends the chain by one event; afterwards ``lastHash`` is that event's hash.
  ///
  /// - Parameters:
  ///   - position: The event's global position.
  ///   - stream: The event's stream.
  ///   - version: The event's version within its stream.
  ///   - type: The event's type.
  ///   - actor: The event's actor.
  ///   - time: The event's time in microseconds since the Unix epoch.
  ///   - data: The event's payload.
  public mutating func append(
    position: Int64,
    stream: String,
    version: Int64,
    type: String,
    actor: String,
    time: Int64,
    data: String
  ) {
    buffer.removeLast(buffer.count - EventHashChain.hashSize)
    appendInteger(position)
    appendString(stream)
    appendInteger(version)
    appendString(type)
    appendString(actor)
    appendInteger(time)
    appendString(data)
    hashBuffer()
  }

  /// Replaces the buffer (last link and canonical bytes) by the next link.
  private mutating func hashBuffer() {
    var hasher = SHA256()
    buffer.withUnsafeBytes { hasher.update(bufferPointer: $0) }
    let digest = hasher.finalize()
    buffer.removeLast(buffer.count - EventHashChain.hashSize)
    buffer.withUnsafeMutableBytes { link in
      digest.withUnsafeBytes { link.copyMemory(from: $0) }
    }
  }

  /// Extends the chain by a stored event, using its position, version and
  /// contents (not its stored hash).
  public mutating func append(_ event: StoredEvent) {
    append(
      position: event.position,
      stream: event.stream,
      version: event.version,
      type: event.type,
      actor: event.actor,
      time: event.time,
      data: event.data
    )
  }

  /// Extends the chain by a stored event lent as bytes, using its position,
  /// version and contents (not its stored hash).
  public mutating func append(_ event: StoredEventBytes) {
    buffer.removeLast(buffer.count - EventHashChain.hashSize)
    appendInteger(event.position)
    appendBytes(event.stream)
    appendInteger(event.version)
    appendBytes(event.type)
    appendBytes(event.actor)
    appendInteger(event.time)
    appendBytes(event.data)
    hashBuffer()
  }

  /// Whether `hash` equals the last hash of the chain.
  public func lastHashEquals(_ hash: UnsafeBufferPointer<UInt8>) -> Bool {
    guard hash.count == EventHashChain.hashSize else { return false }
    return buffer.withUnsafeBufferPointer { bytes in
      bytes[0..<EventHashChain.hashSize].elementsEqual(hash)
    }
  }

  /// The canonical bytes of one event, as hashed after the previous link.
  public static func canonicalBytes(of event: StoredEvent) -> [UInt8] {
    var chain = EventHashChain()
    chain.buffer.removeAll(keepingCapacity: true)
    chain.appendInteger(event.position)
    chain.appendString(event.stream)
    chain.appendInteger(event.version)
    chain.appendString(event.type)
    chain.appendString(event.actor)
    chain.appendInteger(event.time)
    chain.appendString(event.data)
    return chain.buffer
  }

  @inline(__always)
  private mutating func appendInteger(_ value: Int64) {
    withUnsafeBytes(of: value.littleEndian) { buffer.append(contentsOf: $0) }
  }

  @inline(__always)
  private mutating func appendBytes(_ bytes: UnsafeBufferPointer<UInt8>) {
    appendInteger(Int64(bytes.count))
    buffer.append(contentsOf: bytes)
  }

  @inline(__always)
  private mutating func appendString(_ value: String) {
    let utf8 = value.utf8
    appendInteger(Int64(utf8.count))
    // Native strings are contiguous UTF-8: copy them in one go.
    let copied: Void? = utf8.withContiguousStorageIfAvailable { buffer.append(contentsOf: $0) }
    if copied == nil {
      buffer.append(contentsOf: utf8)
    }
  }
}
