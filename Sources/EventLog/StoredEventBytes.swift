/// A stored event's columns as bytes, lent to the body of a byte scan such as
/// ``EventLogReader/forEachEventBytes(from:through:_:)``.
///
/// The buffers point into the log's own memory (the SQLite row being read,
/// or the in-memory log's strings) and are valid only until the body
/// returns: copy what you keep. Reading events this way creates no strings
/// and no arrays, which is what makes replaying and verifying a large log
/// fast; ``StoredEvent`` is the owned, convenient form.
public struct StoredEventBytes {
  /// The event's place in the whole log, starting at 1, without gaps.
  public var position: Int64

  /// The event's place in its stream, starting at 1, without gaps.
  public var version: Int64

  /// When the event happened, in microseconds since the Unix epoch (UTC).
  public var time: Int64

  /// The UTF-8 bytes of the stream's name.
  public var stream: UnsafeBufferPointer<UInt8>

  /// The UTF-8 bytes of the event's kind.
  public var type: UnsafeBufferPointer<UInt8>

  /// The UTF-8 bytes of who or what caused the event.
  public var actor: UnsafeBufferPointer<UInt8>

  /// The UTF-8 bytes of the event's payload (JSON text).
  public var data: UnsafeBufferPointer<UInt8>

  /// The event's chain link: 32 bytes in a healthy log, see ``EventHashChain``.
  public var hash: UnsafeBufferPointer<UInt8>

  /// Lends the columns of one event.
  public init(
    position: Int64, version: Int64, time: Int64, stream: UnsafeBufferPointer<UInt8>, type: UnsafeBufferPointer<UInt8>,
    actor: UnsafeBufferPointer<UInt8>, data: UnsafeBufferPointer<UInt8>, hash: UnsafeBufferPointer<UInt8>
  ) {
    self.position = position
    self.version = version
    self.time = time
    self.stream = stream
    self.type = type
    self.actor = actor
    self.data = data
    self.hash = hash
  }

  /// A copy of the event that owns its contents.
  public var event: StoredEvent {
    StoredEvent(
      position: position, stream: String(decoding: stream, as: UTF8.self), version: version,
      type: String(decoding: type, as: UTF8.self), actor: String(decoding: actor, as: UTF8.self), time: time,
      data: String(decoding: data, as: UTF8.self), hash: Array(hash))
  }

  /// Lends the contents of `event` as bytes for the duration of `body`.
  public static func withBytes<Result>(
    of event: StoredEvent, _ body: (StoredEventBytes) throws -> Result
  ) rethrows -> Result {
    try EventRecordBytes.withBytes(of: event.record) { record in
      try event.hash.withUnsafeBufferPointer { hash in
        try body(
          StoredEventBytes(
            position: event.position, version: event.version, time: event.time, stream: record.stream,
            type: record.type, actor: record.actor, data: record.data, hash: hash))
      }
    }
  }

  /// The columns beyond position, stream, type, actor and data that a byte scan needs (see
  /// ``EventLogReader/forEachEventBytes(from:through:columns:_:)``). A column not needed may be
  /// left unread and lent as 0 (`version`, `time`) or empty (`hash`).
  public struct Columns: OptionSet, Sendable, Hashable {
    /// The columns as bits: `version` 1, `time` 2, `hash` 4.
    public let rawValue: UInt8

    /// Creates a set of columns from its raw bits.
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// The event's version in its stream.
    public static let version = Columns(rawValue: 1)
    /// The event's time.
    public static let time = Columns(rawValue: 2)
    /// The event's hash.
    public static let hash = Columns(rawValue: 4)
    /// Every column.
    public static let all: Columns = [.version, .time, .hash]

    /// The select list of a byte scan of the `events` table: position, stream, type, actor and
    /// data (columns 0…4), then those of these columns asked for, and the index of each.
    package var selectList: (sql: String, version: Int?, time: Int?, hash: Int?) {
      var sql = "SELECT position, stream, type, actor, data"
      var next = 5
      func extra(_ column: Columns, _ name: String) -> Int? {
        guard contains(column) else { return nil }
        sql += ", " + name
        defer { next += 1 }
        return next
      }
      let version = extra(.version, "version")
      let time = extra(.time, "time_us")
      let hash = extra(.hash, "hash")
      return (sql, version, time, hash)
    }
  }
}
