/// How far a long operation (an import, a replay) has come.
public struct ProgressReport: Sendable, Hashable {
  /// The stages of long operations.
  public enum Phase: String, Sendable, Hashable {
    /// Reading and parsing the input (`done` and `total` in bytes).
    case reading
    /// Checking events against the rules (`done` and `total` in events).
    case validating
    /// Appending to the log in one transaction (no finer steps).
    case writing
    /// Rebuilding projections (`done` and `total` in events).
    case replaying
  }

  /// The stage.
  public var phase: Phase
  /// Units done so far.
  public var done: Int64
  /// Units in all, when known.
  public var total: Int64?

  /// Creates a progress report.
  public init(phase: Phase, done: Int64, total: Int64?) {
    self.phase = phase
    self.done = done
    self.total = total
  }
}

/// Receives progress reports, a few thousand events apart, on the calling thread.
public typealias ProgressHandler = (ProgressReport) -> Void
