import OrderedCollections

/// The status of one engagement (one attempt to outsource a ticket to one service partner).
public enum OutsourceStatus: String, Sendable, Hashable, Codable, CaseIterable {
  /// Sent; the partner has not answered. No partner version exists yet.
  case assigned
  /// Refused by the partner (final).
  case declined
  /// Withdrawn by the lead before an answer (final).
  case cancelled
  /// Accepted; sync is active.
  case accepted
  /// The partner works the ticket; sync is active.
  case inProgress = "in-progress"
  /// The partner declared the work complete; sync is suspended.
  case waitingApproval = "waiting-approval"
  /// Over; sync has ended for good.
  case complete

  /// Whether the engagement still blocks a new one.
  public var isOpen: Bool {
    switch self {
    case .assigned, .accepted, .inProgress, .waitingApproval: true
    case .declined, .cancelled, .complete: false
    }
  }

  /// Whether the partner was ever accepted (`accepted` or later), and so holds a version.
  public var hasVersion: Bool {
    switch self {
    case .accepted, .inProgress, .waitingApproval, .complete: true
    case .assigned, .declined, .cancelled: false
    }
  }
}

/// One engagement of a ticket as its history has left it so far: its number, its service partner
/// and its status. A read-only summary for reports (the audit diagram draws one note per
/// engagement).
public struct EngagementSummary: Sendable, Hashable {
  /// The engagement's number on the ticket: 1, 2, 3…
  public var number: Int
  /// The service partner the ticket was outsourced to.
  public var partner: String
  /// The engagement's status now.
  public var status: OutsourceStatus

  /// Creates a summary.
  public init(number: Int, partner: String, status: OutsourceStatus) {
    self.number = number
    self.partner = partner
    self.status = status
  }
}

/// Whose version of the ticket: the lead's, or the service partner's of one engagement.
enum Side: Hashable, Sendable {
  case lead
  case engagement(Int)
}

/// An entry as it exists in one version; its id is the version's key, its owner is its record's.
struct VersionEntry: Sendable, Hashable {
  var isCopy: Bool
  var severed = false
  var content: EntryContent
  var convertedFrom: EntryKind?
  var system = false
  /// For a copy in the lead's version: the engagement whose partner version it came from.
  var sourceEngagement: Int?
}

/// One version of the ticket: its entries by id, in their order of appearance (an entry removed
/// and added again appears at the end).
typealias TicketVersion = OrderedDictionary<String, VersionEntry>

extension TicketVersion {
  /// The room a ticket's entries and versions start with: a ticket has a score of entries or so.
  static var startingRoom: Int { 32 }

  /// An empty version with room for ``startingRoom`` entries.
  static func withRoom() -> Self { Self(minimumCapacity: startingRoom) }
}

/// A change held while an engagement waits for approval.
struct HeldChange: Sendable, Hashable {
  var position: Int64
  var entry: String
  var kind: EntryKind
  var by: String
  var to: String
}

/// One engagement's state.
struct EngagementState: Sendable {
  var number: Int
  var partner: String
  var resource: String?
  var rate: Double?
  var status: OutsourceStatus = .assigned
  /// The partner's version, from acceptance on.
  var version: TicketVersion?
  /// Changes held while waiting for approval, in the order they were held.
  var held: [HeldChange] = []
  /// Entries the partner held when it requested completion: it may not change them while waiting.
  var frozen: Set<String> = []
  /// Entries whose link (between the owner's entry and its copy) is severed in this engagement.
  var severed: Set<String> = []
}

/// An entry as its owner keeps it: the state that copies follow.
struct EntryRecord: Sendable {
  var owner: String
  var home: Side
  var content: EntryContent
  var deleted = false
}
