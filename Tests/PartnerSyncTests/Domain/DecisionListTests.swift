import Testing

@testable import PartnerSync
@testable import PartnerSyncDomain

/// The decisions and notifications of a history through a withdrawal, a hold, a release, a drop
/// and a bundle: the partners, entries, recipients and texts they name.
@Suite("Decision and notification lists")
struct DecisionListTests {
  /// Partners whose ids are longer than a string keeps inline, a resource, a rate.
  static let lead = "a-lead-partner-with-a-long-id"
  static let partner = "a-service-partner-with-a-long-id"

  static func history() throws -> Ticket {
    let b = EventBuilder()
    return try Ticket([
      b.added("lt1", by: lead, .time, hours: 2),
      b.outsourced(partner, by: lead, resource: "a-resource-with-a-long-name", rate: 50),
      b.accepted(by: partner),
      b.added("n1", by: lead, .note, text: "shared"),
      b.edited("n1", by: lead, visibility: .internal),
      b.added("pn1", by: partner, .note, text: "from the partner"),
      b.added("pt1", by: partner, .time, hours: 3),
      b.requested(by: partner),
      b.added("pn2", by: partner, .note, text: "held"),
      b.rejected(by: lead),
      b.requested(by: partner),
      b.added("pn3", by: partner, .note, text: "held, then dropped"),
      b.approved(by: lead),
    ])
  }

  @Test func decisionsGiveBackTheNamesAndFieldsTheRulesTook() throws {
    let decisions = try Self.history().projection.decisions
    #expect(
      decisions.allSatisfy { [Self.lead, Self.partner].contains($0.by) && [Self.lead, Self.partner].contains($0.to) })
    #expect(decisions.allSatisfy { $0.by != $0.to && $0.engagement == 1 })
    let byEntry = Dictionary(grouping: decisions, by: \.entry)
    #expect(byEntry["lt1"]?.first?.transforms == [.leadTimeAsNote])
    #expect(byEntry["pn1"]?.first?.transforms == [.partnerItemsInternalUsersOnly])
    #expect(byEntry["n1"]?.last?.withdrewCopy == true && byEntry["n1"]?.last?.rule == .internalNeverSyncs)
    #expect(byEntry["n1"]?.first?.withdrewCopy == false)
    let released = try #require(byEntry["pn2"]?.last)
    #expect(released.outcome == .released && released.heldAt == 9 && released.to == Self.lead)
    let dropped = try #require(byEntry["pn3"]?.last)
    #expect(dropped.outcome == .dropped && dropped.heldAt == 12 && dropped.event == .completionApproved)
    let bundle = try #require(byEntry["bundle-1"]?.first)
    #expect(bundle.by == Self.partner && bundle.to == Self.lead && bundle.kind == .charge && bundle.heldAt == nil)
  }

  @Test func notificationsGiveBackTheirPartnersRecipientsAndTexts() throws {
    let notifications = try Self.history().projection.notifications
    let time = try #require(notifications.first { $0.rule == .subcontractorTimeNotifiesResource })
    #expect(time.to == "a-resource-with-a-long-name" && time.partner == Self.lead && time.entry == "pt1")
    #expect(time.text.contains(Self.partner))
    let status = notifications.filter { $0.rule == .outsourcingNotifiesPrimaryContact }
    #expect(
      status.first?.partner == Self.partner && status.first?.entry == nil && status.first?.to == "primary-contact")
    #expect(status.first?.text.contains("\(Self.lead) outsourced ticket T-1 to \(Self.partner)") == true)
    let synced = notifications.filter { $0.rule == .syncedChangeNotifiesPartner }
    #expect(synced.allSatisfy { $0.to == "ticket" && $0.entry != nil && $0.ticket == "T-1" })
    #expect(synced.contains { $0.entry == "pn2" && $0.text.contains("held while the completion was pending") })
  }

  @Test func decisionsFromAPositionAreTheEndOfTheList() throws {
    let projection = try Self.history().projection
    for first in Int64(1)...14 {
      #expect(Array(projection.decisions(from: first)) == projection.decisions.filter { $0.position >= first })
      #expect(Array(projection.notifications(from: first)) == projection.notifications.filter { $0.position >= first })
    }
  }
}
