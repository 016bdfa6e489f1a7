/// An event to append, lent as UTF-8 bytes: the form of ``EventRecord`` that
/// a producer of many events hands to ``EventAppender/append(_:)-(EventRecordBytes)``
/// without making a string for each of its columns.
///
/// The buffers belong to the caller and need to stay valid only during the
/// call that receives them: a log copies what it keeps. Each must hold valid
/// UTF-8, as the strings of an ``EventRecord`` do; a log refuses bytes that
/// are not.
public struct EventRecordBytes {
  /// The UTF-8 bytes of the stream's name.
  public var stream: UnsafeBufferPointer<UInt8>

  /// The UTF-8 bytes of the event's kind.
  public var type: UnsafeBufferPointer<UInt8>

  /// The UTF-8 bytes of who or what caused the event.
  public var actor: UnsafeBufferPointer<UInt8>

  /// When the event happened, in microseconds since the Unix epoch (UTC).
  public var time: Int64

  /// The UTF-8 bytes of the event's payload (JSON text).
  public var data: UnsafeBufferPointer<UInt8>

  /// The messages the event leaves in the outbox, framed by ``OutboxFrames`` (empty: none).
  public var outbox: UnsafeBufferPointer<UInt8>

  /// Lends the columns of one event to append, and the frames of the messages it leaves in the
  /// outbox.
  public init(
    stream: UnsafeBufferPointer<UInt8>, type: UnsafeBufferPointer<UInt8>, actor: UnsafeBufferPointer<UInt8>,
    time: Int64, data: UnsafeBufferPointer<UInt8>, outbox: UnsafeBufferPointer<UInt8> = .init(start: nil, count: 0)
  ) {
    self.stream = stream
    self.type = type
    self.actor = actor
    self.time = time
    self.data = data
    self.outbox = outbox
  }

  /// A copy of the event that owns its contents.
  ///
  /// - Throws: ``EventLogError/sqlite(code:message:)`` with code 21 (misuse)
  ///   naming the first column that is not valid UTF-8.
  public func record() throws -> EventRecord {
    try checkUTF8()
    var items: [OutboxItem] = []
    try OutboxFrames.forEach(in: outbox) { recipient, data in
      items.append(
        OutboxItem(recipient: String(decoding: recipient, as: UTF8.self), data: String(decoding: data, as: UTF8.self)))
    }
    return EventRecord(
      stream: String(decoding: stream, as: UTF8.self), type: String(decoding: type, as: UTF8.self),
      actor: String(decoding: actor, as: UTF8.self), time: time, data: String(decoding: data, as: UTF8.self),
      outbox: items)
  }

  /// Lends the contents of `record` as bytes for the duration of `body`.
  public static func withBytes<Result>(
    of record: EventRecord, _ body: (EventRecordBytes) throws -> Result
  ) rethrows -> Result {
    try record.stream.withUTF8Bytes { stream in
      try record.type.withUTF8Bytes { type in
        try record.actor.withUTF8Bytes { actor in
          try record.data.withUTF8Bytes { data in
            guard !record.outbox.isEmpty else {
              return try body(EventRecordBytes(stream: stream, type: type, actor: actor, time: record.time, data: data))
            }
            return try OutboxFrames(record.outbox).bytes.withUnsafeBufferPointer { outbox in
              try body(
                EventRecordBytes(
                  stream: stream, type: type, actor: actor, time: record.time, data: data, outbox: outbox))
            }
          }
        }
      }
    }
  }

  /// Throws, naming the first column that is not valid UTF-8, unless every column is.
  @inline(__always)
  package func checkUTF8() throws {
    func check(_ bytes: UnsafeBufferPointer<UInt8>, _ column: String) throws {
      guard (try? UTF8Span(validating: bytes.span)) != nil else {
        throw EventLogError.misuse("the \(column) of an event to append is not valid UTF-8; pass its UTF-8 bytes")
      }
    }
    try check(stream, "stream")
    try check(type, "type")
    try check(actor, "actor")
    try check(data, "data")
  }
}
