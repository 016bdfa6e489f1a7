import Testing

@testable import PartnerSync
@testable import PartnerSyncDomain

/// Where engagement 1 (acme → bolt) stands before the event under test.
enum Stage: String, CaseIterable, Sendable, CustomTestStringConvertible {
  case neverOutsourced, assigned, declined, cancelled, accepted, inProgress, waitingApproval
  case complete

  var testDescription: String { rawValue }

  var history: [TicketEvent] {
    switch self {
    case .neverOutsourced: [ev.added("n0", by: "acme", .note)]
    case .assigned: [ev.outsourced("bolt")]
    case .declined: [ev.outsourced("bolt"), ev.declined()]
    case .cancelled: [ev.outsourced("bolt"), ev.cancelled()]
    case .accepted: [ev.outsourced("bolt"), ev.accepted()]
    case .inProgress: [ev.outsourced("bolt"), ev.accepted(), ev.added("n1", by: "bolt", .note)]
    case .waitingApproval: Stage.inProgress.history + [ev.requested()]
    case .complete: Stage.waitingApproval.history + [ev.approved()]
    }
  }

  /// The status of engagement 1, as DOMAIN.md names it.
  var status: OutsourceStatus? {
    switch self {
    case .neverOutsourced: nil
    case .assigned: .assigned
    case .declined: .declined
    case .cancelled: .cancelled
    case .accepted: .accepted
    case .inProgress: .inProgress
    case .waitingApproval: .waitingApproval
    case .complete: .complete
    }
  }
}

/// The transition table of DOMAIN.md, written out independently of the code.
enum TransitionTable {
  static let statusEvents: [EventType] = [
    .outsourced, .cancelled, .declined, .accepted, .completionRequested, .completionRejected,
    .completionApproved, .completed,
  ]

  /// Who may send `type`: the lead (`acme`) or the engagement's partner (`bolt`).
  static func actor(of type: EventType) -> String {
    switch type {
    case .declined, .accepted, .completionRequested: "bolt"
    default: "acme"
    }
  }

  /// The status `type` leads to from `from`, or `nil` when the table refuses it.
  static func target(of type: EventType, from: OutsourceStatus?) -> OutsourceStatus? {
    switch (type, from) {
    case (.outsourced, nil), (.outsourced, .declined?), (.outsourced, .cancelled?),
      (.outsourced, .complete?):
      .assigned
    case (.cancelled, .assigned?): .cancelled
    case (.declined, .assigned?): .declined
    case (.accepted, .assigned?): .accepted
    case (.completionRequested, .accepted?), (.completionRequested, .inProgress?):
      .waitingApproval
    case (.completionRejected, .waitingApproval?): .inProgress
    case (.completionApproved, .waitingApproval?): .complete
    case (.completed, .accepted?), (.completed, .inProgress?), (.completed, .waitingApproval?):
      .complete
    default: nil
    }
  }
}

@Suite("The outsource state machine")
struct TransitionTests {
  @Test(
    "every status event from every status, by every actor, as the table says",
    arguments: TransitionTable.statusEvents, Stage.allCases)
  func transition(type: EventType, stage: Stage) throws {
    for actor in ["acme", "bolt", "crane", "zed"] {
      var t = try Ticket(stage.history)
      let allowed = TransitionTable.target(of: type, from: stage.status)
      let expected = actor == TransitionTable.actor(of: type) ? allowed : nil
      if let expected {
        try t.apply(ev.status(type, by: actor))
        #expect(t.status() == expected, "\(type.rawValue) by \(actor) from \(stage)")
        if type == .outsourced {
          #expect(t.projection.currentEngagement == (stage == .neverOutsourced ? 1 : 2))
          #expect(stage.status == nil || t.status(engagement: 1) == stage.status)
        }
      } else {
        let reason = t.refuse(ev.status(type, by: actor))
        #expect(reason != nil, "\(type.rawValue) by \(actor) from \(stage) must be refused")
      }
    }
  }

  @Test(
    "the partner's first entry change after acceptance moves it to in-progress",
    arguments: [
      ev.added("n2", by: "bolt", .note), ev.edited("n1", by: "bolt", text: "x"),
      ev.deleted("n1", by: "bolt"),
    ])
  func partnerChangeStartsWork(change: TicketEvent) throws {
    var t = try Ticket([ev.added("n1", by: "acme", .note), ev.outsourced("bolt"), ev.accepted()])
    try t.run(ev.added("n9", by: "acme", .note), ev.edited("n1", by: "acme", text: "lead"))
    #expect(t.status() == .accepted)
    try t.apply(change)
    #expect(t.status() == .inProgress)
    let here = t.projection.notifications.filter { $0.position == t.projection.position }
    #expect(!here.contains { $0.rule == .outsourcingNotifiesPrimaryContact })
  }

  @Test("accepted and in-progress sync alike, and both may request completion or be completed")
  func acceptedSyncsLikeInProgress() throws {
    var t = try Ticket([ev.outsourced("bolt"), ev.accepted(), ev.added("n1", by: "acme", .note)])
    #expect(t.status() == .accepted)
    #expect(t.audit("n1") == ["3 n1 acme>bolt synced own-change-syncs"])
    try t.run(ev.requested())
    #expect(t.status() == .waitingApproval)
  }

  @Test(
    "the first event must be outsourced or entry-added",
    arguments: EventType.allCases.filter { $0 != .outsourced && $0 != .entryAdded })
  func firstEvent(type: EventType) throws {
    var t = try Ticket()
    for actor in ["acme", "bolt"] {
      let reason = t.refuse(ev.status(type, by: actor))
      #expect(reason?.contains("first event") == true)
    }
    #expect(t.projection.lead == nil)
  }

  @Test("the first event's actor is the lead; every later lead action must come from it")
  func leadIsFirstActor() throws {
    var t = try Ticket([ev.added("n0", by: "bolt", .note)])
    #expect(t.projection.lead == "bolt")
    t.refuse(ev.outsourced("crane", by: "acme"))
    try t.run(ev.outsourced("acme", by: "bolt"), ev.accepted(by: "acme"))
    #expect(try t.view("bolt").role == .lead)
    #expect(try t.view("acme").role == .service)
    #expect(try t.ids("acme") == ["n0"])
  }

  @Test("a lead cannot outsource to itself, first or later")
  func outsourceToSelf() throws {
    var empty = try Ticket()
    empty.refuse(ev.outsourced("acme", by: "acme"))
    var t = try Ticket([ev.added("n0", by: "acme", .note)])
    t.refuse(ev.outsourced("acme"))
    try t.run(ev.outsourced("bolt"), ev.declined())
    t.refuse(ev.outsourced("acme"))
  }

  @Test(
    "a second outsourced while one is open is refused, to any partner",
    arguments: [Stage.assigned, .accepted, .inProgress, .waitingApproval])
  func secondOutsourcing(stage: Stage) throws {
    var t = try Ticket(stage.history)
    for partner in ["bolt", "crane"] {
      let reason = t.refuse(ev.outsourced(partner))
      #expect(reason?.contains("open engagement") == true)
    }
  }

  @Test("after a decline the same partner may get a new engagement, with a new version")
  func reoutsourceSamePartner() throws {
    var t = try Ticket([ev.outsourced("bolt"), ev.declined(), ev.outsourced("bolt")])
    #expect(t.projection.currentEngagement == 2)
    t.refuse(ev.added("n1", by: "bolt", .note))
    try t.run(ev.accepted(), ev.added("n1", by: "bolt", .note))
    #expect(try t.view("bolt").engagement == 2)
    #expect(try t.view("bolt", engagement: 1).status == .declined)
    #expect(try t.ids("bolt", engagement: 1) == [])
    #expect(try t.ids("bolt") == ["n1"])
  }
}
