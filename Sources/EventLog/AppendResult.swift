/// What an append wrote.
///
/// The batch occupies positions `firstPosition...lastPosition`. For an empty
/// batch nothing is written and `firstPosition == lastPosition + 1`, where
/// `lastPosition` is the log's last position.
public struct AppendResult: Sendable, Equatable {
  /// The position of the batch's first event (for an empty batch, the
  /// position the next event will get).
  public var firstPosition: Int64

  /// The position of the batch's last event (for an empty batch, the log's
  /// last position).
  public var lastPosition: Int64

  /// The new version of each stream the batch touched.
  public var versions: [String: Int64]

  /// Creates an append result.
  public init(firstPosition: Int64, lastPosition: Int64, versions: [String: Int64]) {
    self.firstPosition = firstPosition
    self.lastPosition = lastPosition
    self.versions = versions
  }

  /// The number of events the batch appended.
  public var count: Int64 { lastPosition - firstPosition + 1 }
}
