/// The stable id of every rule of the domain: the audit names it, the tests name it, the docs name it.
public enum RuleID: String, Sendable, Hashable, Codable, CaseIterable {
  /// While sync is active, an owner's change to its own entry is applied to the copy on the other side.
  case ownChangeSyncs = "own-change-syncs"
  /// At acceptance, the lead's entries that pass the filters are copied to the new partner version.
  case copiedAtAcceptance = "copied-at-acceptance"
  /// The lead's time entry reaches the service partner as a public note.
  case leadTimeAsNote = "lead-time-as-note"
  /// The service partner's notes and attachments reach the lead as internal-users-only.
  case partnerItemsInternalUsersOnly = "partner-items-internal-users-only"
  /// An internal entry is never copied; making a shared entry internal withdraws its copy.
  case internalNeverSyncs = "internal-never-syncs"
  /// Only `file` attachments are copied.
  case linksNeverSync = "links-never-sync"
  /// The lead's own charges are never copied to a service partner.
  case leadChargesStayLocal = "lead-charges-stay-local"
  /// Editing the other partner's entry changes only one's own version and severs the link.
  case foreignEditSevers = "foreign-edit-severs"
  /// Deleting the other partner's entry removes it from one's own version and severs the link.
  case foreignDeleteSevers = "foreign-delete-severs"
  /// After a link is severed, the owner's changes no longer reach the copy.
  case severedLink = "severed-link"
  /// While the engagement waits for approval, changes that could cross are held.
  case suspendedWaitingApproval = "suspended-waiting-approval"
  /// When the lead rejects the completion, held changes are applied.
  case releasedOnRejection = "released-on-rejection"
  /// When the engagement completes, held changes are discarded.
  case droppedAtCompletion = "dropped-at-completion"
  /// Changes to a complete (or superseded) engagement's entries stay local.
  case syncEnded = "sync-ended"
  /// At completion the service partner's time reaches the lead as one non-billable charge.
  case timeBundledAtCompletion = "time-bundled-at-completion"
  /// Each status event notifies the other partner's primary contact.
  case outsourcingNotifiesPrimaryContact = "outsourcing-notifies-primary-contact"
  /// Each synced or released change notifies the partner that received it.
  case syncedChangeNotifiesPartner = "synced-change-notifies-partner"
  /// A service partner adding a time entry notifies the lead's assigned resource.
  case subcontractorTimeNotifiesResource = "subcontractor-time-notifies-resource"

  /// The rule's summary, one sentence for people.
  public var summary: String {
    switch self {
    case .ownChangeSyncs:
      "While sync is active, an owner's creation, edit or deletion of its own entry is applied to the copy on the other side."
    case .copiedAtAcceptance:
      "At acceptance, the lead's entries that exist then and pass the filters are copied to the new partner version."
    case .leadTimeAsNote:
      "The lead's time entry reaches the service partner as a public note that keeps its hours, title and text."
    case .partnerItemsInternalUsersOnly:
      "The service partner's notes and attachments reach the lead as internal-users-only, never on invoices or portals."
    case .internalNeverSyncs:
      "An internal entry is never copied; if an owner makes a shared entry internal, its copy is withdrawn."
    case .linksNeverSync:
      "Only file attachments are copied; url, file-link and folder-link attachments are not."
    case .leadChargesStayLocal:
      "The lead's own charges, the completion bundle included, are never copied to a service partner."
    case .foreignEditSevers:
      "A partner that edits the other partner's entry changes only its own version, and the link is severed."
    case .foreignDeleteSevers:
      "A partner that deletes the other partner's entry removes it from its own version only, and the link is severed."
    case .severedLink:
      "After a link is severed, the owner's edits and deletion no longer reach the copy, and a deleted copy is never re-created."
    case .suspendedWaitingApproval:
      "While the engagement waits for approval, every change that could reach the other side is held."
    case .releasedOnRejection:
      "When the lead rejects the completion, sync resumes and each held change is applied with the entry's latest state, unless that state fails a filter."
    case .droppedAtCompletion:
      "When the engagement becomes complete, every held change is discarded."
    case .syncEnded:
      "Changes to an engagement's entries after it is complete, or after another engagement started, stay local."
    case .timeBundledAtCompletion:
      "At completion the service partner's time reaches the lead once more, as one non-billable charge."
    case .outsourcingNotifiesPrimaryContact:
      "Each status event notifies the primary contact of the other partner (both partners at approval and completion)."
    case .syncedChangeNotifiesPartner:
      "Each synced or released change notifies the partner whose version received it."
    case .subcontractorTimeNotifiesResource:
      "A service partner that adds a time entry notifies the lead's assigned resource, whatever the entry's sync decision."
    }
  }
}
