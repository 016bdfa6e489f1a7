/// An event to append.
///
/// `time` is microseconds since the Unix epoch (UTC). `data` is the event's
/// payload as JSON text, opaque to the log: the log stores and hashes it
/// byte for byte and never parses it.
///
/// The log assigns the global position and the per-stream version when the
/// event is appended; see ``StoredEvent``.
public struct EventRecord: Sendable, Equatable {
  /// The name of the stream the event belongs to, for example one entity's
  /// identifier. Streams are compared byte for byte (UTF-8).
  public var stream: String

  /// The kind of event, for example `"created"`.
  public var type: String

  /// Who or what caused the event, for example a user or process name.
  public var actor: String

  /// When the event happened, in microseconds since the Unix epoch (UTC).
  public var time: Int64

  /// The event's payload as JSON text; opaque to the log.
  public var data: String

  /// The messages the event leaves in the outbox, stored in the same transaction (see
  /// ``EventLogReader/forEachOutboxMessage(after:recipient:_:)``); derived data, outside the hash
  /// chain.
  public var outbox: [OutboxItem]

  /// Creates an event to append.
  public init(stream: String, type: String, actor: String, time: Int64, data: String, outbox: [OutboxItem] = []) {
    self.stream = stream
    self.type = type
    self.actor = actor
    self.time = time
    self.data = data
    self.outbox = outbox
  }
}
