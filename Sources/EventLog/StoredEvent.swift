/// An event as stored.
///
/// Positions are global and gap-free (1, 2, 3, …); versions count the events
/// of one stream (1, 2, 3, …). `hash` links the event to its predecessor; see
/// ``EventHashChain``.
public struct StoredEvent: Sendable, Equatable {
  /// The event's place in the whole log, starting at 1, without gaps.
  public var position: Int64

  /// The name of the stream the event belongs to.
  public var stream: String

  /// The event's place in its stream, starting at 1, without gaps.
  public var version: Int64

  /// The kind of event.
  public var type: String

  /// Who or what caused the event.
  public var actor: String

  /// When the event happened, in microseconds since the Unix epoch (UTC).
  public var time: Int64

  /// The event's payload as JSON text.
  public var data: String

  /// The SHA-256 chain link of the event: 32 bytes, see ``EventHashChain``.
  public var hash: [UInt8]

  /// Creates a stored event; the log does this when it reads events back.
  public init(
    position: Int64, stream: String, version: Int64, type: String, actor: String, time: Int64, data: String,
    hash: [UInt8]
  ) {
    self.position = position
    self.stream = stream
    self.version = version
    self.type = type
    self.actor = actor
    self.time = time
    self.data = data
    self.hash = hash
  }

  /// The event without the fields the log assigned (position, version, hash).
  public var record: EventRecord {
    EventRecord(stream: stream, type: type, actor: actor, time: time, data: data)
  }
}
