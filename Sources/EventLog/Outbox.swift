/// Where a reader of the outbox stands: after the message at `index` (0, 1, …) of the event at
/// `position`. Cursors are totally ordered by position, then index; ``start`` is before every
/// message.
///
/// Its text, `"12-0"`, is also the message's id: stable for ever, since the events it comes from
/// never change, so a receiver may drop a message whose id it has seen.
public struct OutboxCursor: Sendable, Hashable, Comparable, LosslessStringConvertible {
  /// The position of the event whose message this is.
  public var position: Int64
  /// The message's index among its event's messages, from 0.
  public var index: Int

  /// Before every message.
  public static let start = OutboxCursor(position: 0, index: 0)

  /// The cursor at the message `index` of the event at `position`.
  public init(position: Int64, index: Int) {
    self.position = position
    self.index = index
  }

  /// Reads `"12-0"`; nil for anything else (negative numbers included).
  public init?(_ description: String) {
    let parts = description.split(separator: "-", omittingEmptySubsequences: false)
    guard parts.count == 2, let position = Int64(parts[0]), let index = Int(parts[1]), position >= 0, index >= 0,
      parts.allSatisfy({ $0.allSatisfy(\.isASCII) && !$0.hasPrefix("+") })
    else { return nil }
    self.init(position: position, index: index)
  }

  /// `"12-0"`.
  public var description: String { "\(position)-\(index)" }

  /// Orders by position, then index.
  public static func < (lhs: OutboxCursor, rhs: OutboxCursor) -> Bool {
    (lhs.position, lhs.index) < (rhs.position, rhs.index)
  }
}

/// A message of the outbox: what an event left for one recipient, stored with it.
public struct OutboxMessage: Sendable, Hashable {
  /// Where the message stands; its text is the message's id.
  public var cursor: OutboxCursor
  /// Whom it is for.
  public var recipient: String
  /// Its content, opaque to the log (the engine stores JSON).
  public var data: String

  /// A message at `cursor` for `recipient`.
  public init(cursor: OutboxCursor, recipient: String, data: String) {
    self.cursor = cursor
    self.recipient = recipient
    self.data = data
  }
}

/// A message to leave in the outbox with an event, before the log places it.
public struct OutboxItem: Sendable, Hashable {
  /// Whom it is for.
  public var recipient: String
  /// Its content, opaque to the log.
  public var data: String

  /// A message for `recipient`.
  public init(recipient: String, data: String) {
    self.recipient = recipient
    self.data = data
  }
}

/// The messages of one event, framed one after the other in one byte buffer, so that an event
/// and its messages travel through an append as one set of bytes (``EventRecordBytes/outbox``).
///
/// Each message is its recipient's length (4 bytes, little-endian), the recipient's UTF-8 bytes,
/// its data's length and the data's bytes. Reuse one value for many events: ``removeAll()``
/// keeps its memory.
public struct OutboxFrames: Sendable {
  /// The framed bytes.
  public private(set) var bytes: [UInt8] = []

  /// No message yet.
  public init() {}

  /// The frames of `items`.
  public init(_ items: [OutboxItem]) {
    for item in items {
      var (recipient, data) = (item.recipient, item.data)
      recipient.withUTF8 { recipient in data.withUTF8 { add(recipient: recipient, data: $0) } }
    }
  }

  /// Adds a message for `recipient` with `data` (both UTF-8).
  public mutating func add(recipient: UnsafeBufferPointer<UInt8>, data: UnsafeBufferPointer<UInt8>) {
    append(recipient)
    append(data)
  }

  /// Forgets the messages, keeping the memory.
  public mutating func removeAll() {
    bytes.removeAll(keepingCapacity: true)
  }

  private mutating func append(_ part: UnsafeBufferPointer<UInt8>) {
    let count = UInt32(part.count)
    bytes.append(contentsOf: [
      UInt8(count & 0xFF), UInt8(count >> 8 & 0xFF), UInt8(count >> 16 & 0xFF), UInt8(count >> 24),
    ])
    bytes.append(contentsOf: part)
  }

  /// Calls `body` with each message of `frames` (recipient, data), in order.
  /// - Throws: ``EventLogError/sqlite(code:message:)`` with code 21 (misuse) when the frames are
  ///   cut short or a part is not UTF-8.
  public static func forEach(
    in frames: UnsafeBufferPointer<UInt8>,
    _ body: (_ recipient: UnsafeBufferPointer<UInt8>, _ data: UnsafeBufferPointer<UInt8>) throws -> Void
  ) throws {
    var offset = 0
    func next() throws -> UnsafeBufferPointer<UInt8> {
      guard frames.count - offset >= 4 else { throw cutShort }
      let count =
        Int(frames[offset]) | Int(frames[offset + 1]) << 8 | Int(frames[offset + 2]) << 16 | Int(frames[offset + 3])
        << 24
      offset += 4
      guard frames.count - offset >= count else { throw cutShort }
      defer { offset += count }
      let part = UnsafeBufferPointer(rebasing: frames[offset..<offset + count])
      guard (try? UTF8Span(validating: part.span)) != nil else {
        throw EventLogError.misuse("an outbox message to append is not valid UTF-8; pass its UTF-8 bytes")
      }
      return part
    }
    while offset < frames.count {
      let recipient = try next()
      try body(recipient, try next())
    }
  }

  private static var cutShort: EventLogError {
    EventLogError.misuse("the outbox frames of an event to append are cut short; build them with OutboxFrames")
  }
}
