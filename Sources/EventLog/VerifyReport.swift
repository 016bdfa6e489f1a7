/// The outcome of ``EventLogReader/verify()``.
///
/// A healthy log has positions 1…N without gaps, each stream's versions
/// 1…n without gaps, and every stored hash equal to the recomputed chain
/// link (see ``EventHashChain``).
public struct VerifyReport: Sendable, Equatable {
  /// The number of events read.
  public var events: Int64

  /// The first position at which the log is not what it should be, or `nil`
  /// when the log is healthy. For a gap this is the missing position.
  public var firstBadPosition: Int64?

  /// One sentence describing the first problem, or `nil` when the log is
  /// healthy.
  public var problem: String?

  /// Whether the problem is in derived data only (the outbox): the events themselves are intact,
  /// and writing the derived data again repairs the log.
  public var derivedOnly = false

  /// Whether verification found no problem.
  public var isHealthy: Bool { firstBadPosition == nil }

  /// Creates a verification report.
  public init(events: Int64, firstBadPosition: Int64? = nil, problem: String? = nil) {
    self.events = events
    self.firstBadPosition = firstBadPosition
    self.problem = problem
  }
}

/// Checks a log's events, fed in position order, one at a time.
///
/// Used by every ``EventLogReader/verify()``, so a log is judged the same way whatever stores
/// it. It keeps only the chain's last link and each stream's last version in memory. After the
/// first problem it only counts the remaining events.
struct EventChainVerifier {
  private var chain = EventHashChain()
  /// Each stream's version so far, by its slot in `streams`.
  private var streams = NameTable()
  private var versions: [Int64] = []
  /// The report for the events checked so far.
  private(set) var report = VerifyReport(events: 0)

  /// Checks the next event in position order.
  mutating func check(_ event: StoredEventBytes) {
    report.events += 1
    guard report.isHealthy else { return }
    // Every event before this one was where it should be.
    let (position, expectedPosition) = (event.position, report.events)
    if position != expectedPosition {
      let kind = position > expectedPosition ? "gap" : "out of order"
      return fail(at: expectedPosition, "position \(kind): expected \(expectedPosition), found \(position)")
    }
    let slot = streams.slot(of: event.stream)
    if slot == versions.count { versions.append(0) }
    versions[slot] += 1
    if event.version != versions[slot] {
      return fail(
        at: position,
        "position \(position): stream \"\(streams.names[slot])\" has version \(event.version), "
          + "expected \(versions[slot])")
    }
    chain.append(event)
    if !chain.lastHashEquals(event.hash) {
      fail(at: position, "position \(position): hash does not match its contents or its predecessor")
    }
  }

  private mutating func fail(at position: Int64, _ sentence: String) {
    report.firstBadPosition = position
    report.problem = sentence
  }
}
