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
/// is defined in one place. It reuses one buffer for all events.
///
/// ```swift
/// var chain = EventHashChain()
/// chain.append(
///   StoredEvent(position: 1, stream: "a", version: 1, type: "t", actor: "me", time: 0, data: "{}", hash: []))
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
  public func withLastHash<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
    try buffer.withUnsafeBytes { bytes in
      try body(UnsafeRawBufferPointer(rebasing: bytes[0..<EventHashChain.hashSize]))
    }
  }

  /// Whether `hash` equals the last hash of the chain.
  public func lastHashEquals(_ hash: [UInt8]) -> Bool {
    hash.withUnsafeBufferPointer { lastHashEquals($0) }
  }

  /// Whether `hash` equals the last hash of the chain.
  public func lastHashEquals(_ hash: UnsafeBufferPointer<UInt8>) -> Bool {
    hash.count == EventHashChain.hashSize && buffer[0..<EventHashChain.hashSize].elementsEqual(hash)
  }

  /// Extends the chain by a stored event, using its position, version and
  /// contents (not its stored hash); afterwards ``lastHash`` is that event's hash.
  public mutating func append(_ event: StoredEvent) {
    EventRecordBytes.withBytes(of: event.record) { append(position: event.position, version: event.version, $0) }
  }

  /// Extends the chain by a stored event lent as bytes, using its position,
  /// version and contents (not its stored hash).
  public mutating func append(_ event: StoredEventBytes) {
    append(
      position: event.position, version: event.version,
      EventRecordBytes(stream: event.stream, type: event.type, actor: event.actor, time: event.time, data: event.data))
  }

  /// Extends the chain by the event lent as `event`, placed at `position` and `version`.
  package mutating func append(position: Int64, version: Int64, _ event: EventRecordBytes) {
    let end = Self.hashSize + CanonicalWriter.size(of: event)
    if buffer.count < end {
      buffer.append(contentsOf: repeatElement(0, count: end - buffer.count))
    }
    buffer.withUnsafeMutableBytes { buffer in
      var writer = CanonicalWriter(buffer: buffer, offset: Self.hashSize)
      writer.put(position: position, version: version, event)
      var hasher = SHA256()
      hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<end]))
      hasher.finalize().withUnsafeBytes { digest in
        buffer.baseAddress!.copyMemory(from: digest.baseAddress!, byteCount: Self.hashSize)
      }
    }
  }

  /// The canonical bytes of one event, as hashed after the previous link.
  package static func canonicalBytes(of event: StoredEvent) -> [UInt8] {
    EventRecordBytes.withBytes(of: event.record) { record in
      [UInt8](unsafeUninitializedCapacity: CanonicalWriter.size(of: record)) { bytes, count in
        var writer = CanonicalWriter(buffer: UnsafeMutableRawBufferPointer(bytes), offset: 0)
        writer.put(position: event.position, version: event.version, record)
        count = writer.offset
      }
    }
  }
}

/// Writes an event's canonical bytes into a buffer large enough for them.
private struct CanonicalWriter {
  let buffer: UnsafeMutableRawBufferPointer
  var offset: Int

  /// The size of the canonical bytes of `event`: three integers, and four strings with their
  /// lengths.
  static func size(of event: EventRecordBytes) -> Int {
    7 * 8 + event.stream.count + event.type.count + event.actor.count + event.data.count
  }

  @inline(__always)
  mutating func put(position: Int64, version: Int64, _ event: EventRecordBytes) {
    put(position)
    put(event.stream)
    put(version)
    put(event.type)
    put(event.actor)
    put(event.time)
    put(event.data)
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
