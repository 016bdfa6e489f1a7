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
  /// scratch space for the canonical bytes of the next event (the buffer only
  /// grows, to the largest event seen).
  private var buffer: [UInt8]

  /// Starts a chain at the beginning of a log.
  public init() {
    buffer = EventHashChain.genesis
  }

  /// Continues a chain after an event whose hash is `lastHash`, or returns nil
  /// when `lastHash` is not 32 bytes long.
  public init?(lastHash: [UInt8]) {
    guard lastHash.count == EventHashChain.hashSize else { return nil }
    buffer = lastHash
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
    stream.withUTF8Bytes { stream in
      type.withUTF8Bytes { type in
        actor.withUTF8Bytes { actor in
          data.withUTF8Bytes { data in
            append(
              position: position, stream: stream, version: version, type: type, actor: actor, time: time,
              data: data)
          }
        }
      }
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
    append(
      position: event.position, stream: event.stream, version: event.version, type: event.type,
      actor: event.actor, time: event.time, data: event.data)
  }

  /// Extends the chain by one event whose texts are lent as UTF-8 bytes.
  mutating func append(
    position: Int64,
    stream: UnsafeBufferPointer<UInt8>,
    version: Int64,
    type: UnsafeBufferPointer<UInt8>,
    actor: UnsafeBufferPointer<UInt8>,
    time: Int64,
    data: UnsafeBufferPointer<UInt8>
  ) {
    let size =
      EventHashChain.hashSize
      + Self.canonicalSize(stream: stream.count, type: type.count, actor: actor.count, data: data.count)
    if buffer.count < size {
      buffer.append(contentsOf: repeatElement(0, count: size - buffer.count))
    }
    buffer.withUnsafeMutableBytes { buffer in
      var writer = CanonicalWriter(buffer, at: EventHashChain.hashSize)
      writer.put(position, stream, version, type, actor, time, data)
      var hasher = SHA256()
      hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<writer.offset]))
      hasher.finalize().withUnsafeBytes { digest in
        buffer.baseAddress!.copyMemory(from: digest.baseAddress!, byteCount: EventHashChain.hashSize)
      }
    }
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
    StoredEventBytes.withBytes(of: event) { event in
      let size = canonicalSize(
        stream: event.stream.count, type: event.type.count, actor: event.actor.count, data: event.data.count)
      return [UInt8](unsafeUninitializedCapacity: size) { bytes, count in
        var writer = CanonicalWriter(UnsafeMutableRawBufferPointer(bytes), at: 0)
        writer.put(event.position, event.stream, event.version, event.type, event.actor, event.time, event.data)
        count = writer.offset
      }
    }
  }

  /// The size of an event's canonical bytes: four strings of the given
  /// lengths, with seven 8-byte integers (three fields, four lengths).
  private static func canonicalSize(stream: Int, type: Int, actor: Int, data: Int) -> Int {
    7 * 8 + stream + type + actor + data
  }
}

/// Writes an event's canonical bytes into a buffer large enough for them.
private struct CanonicalWriter {
  let buffer: UnsafeMutableRawBufferPointer
  private(set) var offset: Int

  init(_ buffer: UnsafeMutableRawBufferPointer, at offset: Int) {
    self.buffer = buffer
    self.offset = offset
  }

  /// Writes the fields in canonical order.
  @inline(__always)
  mutating func put(
    _ position: Int64, _ stream: UnsafeBufferPointer<UInt8>, _ version: Int64,
    _ type: UnsafeBufferPointer<UInt8>, _ actor: UnsafeBufferPointer<UInt8>, _ time: Int64,
    _ data: UnsafeBufferPointer<UInt8>
  ) {
    put(position)
    put(stream)
    put(version)
    put(type)
    put(actor)
    put(time)
    put(data)
  }

  @inline(__always)
  private mutating func put(_ value: Int64) {
    buffer.storeBytes(of: value.littleEndian, toByteOffset: offset, as: Int64.self)
    offset += 8
  }

  @inline(__always)
  private mutating func put(_ bytes: UnsafeBufferPointer<UInt8>) {
    put(Int64(bytes.count))
    if let base = bytes.baseAddress {
      (buffer.baseAddress! + offset).copyMemory(from: base, byteCount: bytes.count)
    }
    offset += bytes.count
  }
}
