import Testing

@testable import PartnerSync
@testable import PartnerSyncDomain

/// Refusals other than the transition table: who may act, on which entries, with which fields.
/// Every refusal is checked to leave the projection unchanged (``Ticket/refuse(_:sourceLocation:)``).
@Suite("Refused events")
struct ValidationTests {
  @Test(
    "a partner without a version cannot act",
    arguments: [Stage.assigned, .declined, .cancelled])
  func partnerWithoutVersion(stage: Stage) throws {
    var t = try Ticket(stage.history)
    for actor in ["bolt", "zed"] {
      t.refuse(ev.added("n9", by: actor, .note))
      t.refuse(ev.edited("n0", by: actor, text: "x"))
      t.refuse(ev.deleted("n0", by: actor))
    }
  }

  @Test("a stranger cannot act on an accepted ticket")
  func strangerActs() throws {
    var t = try Ticket(Stage.inProgress.history)
    for event in [
      ev.added("n9", by: "zed", .note), ev.edited("n1", by: "zed", text: "x"),
      ev.deleted("n1", by: "zed"), ev.requested(by: "zed"),
    ] {
      t.refuse(event)
    }
  }

  @Test("a service partner acts on its latest engagement's version only")
  func latestEngagementOnly() throws {
    var t = try Ticket(Stage.complete.history)
    try t.run(ev.added("n2", by: "bolt", .note))
    try t.run(ev.outsourced("bolt"))
    // Engagement 2 is only assigned: bolt holds no version to act on, though engagement 1 exists.
    t.refuse(ev.added("n3", by: "bolt", .note))
    t.refuse(ev.edited("n1", by: "bolt", text: "x"))
    try t.run(ev.accepted())
    t.refuse(ev.edited("n1", by: "bolt", text: "x"))
    #expect(try t.ids("bolt") == [])
    #expect(try t.ids("bolt", engagement: 1) == ["n1", "n2"])
  }

  @Test("while waiting, the partner may not change the entries it had before the request")
  func frozenWhileWaiting() throws {
    var t = try Ticket([
      ev.outsourced("bolt"), ev.accepted(), ev.added("n1", by: "bolt", .note),
      ev.added("n3", by: "acme", .note), ev.requested(),
    ])
    t.refuse(ev.edited("n1", by: "bolt", text: "x"))
    t.refuse(ev.deleted("n1", by: "bolt"))
    t.refuse(ev.edited("n3", by: "bolt", text: "x"))
    t.refuse(ev.deleted("n3", by: "bolt"))
    // Its new entries it may change (and delete); the lead may change anything.
    try t.run(
      ev.added("n2", by: "bolt", .note), ev.edited("n2", by: "bolt", text: "x"),
      ev.deleted("n2", by: "bolt"), ev.edited("n3", by: "acme", text: "y"),
      ev.edited("n1", by: "acme", text: "z"))
    // After a rejection everything may change again.
    try t.run(ev.rejected(), ev.edited("n3", by: "bolt", text: "x"), ev.deleted("n1", by: "bolt"))
  }

  @Test("an editor edits only the fields of the kind it sees")
  func fieldsOfTheSeenKind() throws {
    var t = try Ticket([
      ev.outsourced("bolt"), ev.accepted(), ev.added("t1", by: "acme", .time, hours: 1),
      ev.added("t2", by: "bolt", .time, hours: 1), ev.added("n2", by: "bolt", .note),
      ev.added("a1", by: "acme", .attachment), ev.added("c2", by: "bolt", .charge),
    ])
    let reason = t.refuse(ev.edited("t1", by: "bolt", hours: 2))
    #expect(reason?.contains("hours") == true)
    t.refuse(ev.edited("t2", by: "acme", visibility: .internal))
    t.refuse(ev.edited("n2", by: "acme", hours: 2))
    t.refuse(ev.edited("a1", by: "acme", text: "x"))
    t.refuse(ev.edited("c2", by: "acme", visibility: .public))
    t.refuse(ev.edited("t1", by: "acme", visibility: .public))
    t.refuse(
      ev.event("acme", .entryEdited(entry: "a1", changes: EntryContent(attachmentType: .url))))
    // What the kind has is fine: the lead's time is a note to bolt (title, text, visibility).
    try t.run(ev.edited("t1", by: "bolt", title: "x", text: "y", visibility: .internal))
    #expect(try t.entry("t1", of: "bolt")?.content.hours == 1)
  }

  @Test("entry ids are unique in the ticket for ever")
  func duplicateIDs() throws {
    var t = try Ticket([
      ev.added("n1", by: "acme", .note), ev.added("n0", by: "acme", .note, visibility: .internal),
      ev.outsourced("bolt"), ev.accepted(), ev.added("n2", by: "bolt", .note),
      ev.deleted("n1", by: "acme"),
    ])
    t.refuse(ev.added("n1", by: "acme", .note))  // after deletion
    t.refuse(ev.added("n1", by: "bolt", .note))  // the deleted id, by the other partner
    t.refuse(ev.added("n2", by: "bolt", .time))  // same partner, another kind
    t.refuse(ev.added("n2", by: "acme", .note))  // the other partner's id
    t.refuse(ev.added("n0", by: "bolt", .note))  // an id bolt has never seen
    try t.run(ev.deleted("n2", by: "bolt"), ev.completed(), ev.outsourced("crane"))
    try t.run(ev.accepted(by: "crane"))
    t.refuse(ev.added("n2", by: "crane", .note))  // across engagements
    t.refuse(ev.added("n0", by: "crane", .note))
  }

  @Test("ids of the form bundle-<n> are reserved", arguments: ["acme", "bolt"])
  func reservedBundleIDs(actor: String) throws {
    var t = try Ticket([ev.outsourced("bolt"), ev.accepted()])
    t.refuse(ev.added("bundle-1", by: actor, .note))
    t.refuse(ev.added("bundle-7", by: actor, .charge))
    try t.run(ev.added("bundle-x", by: actor, .note), ev.added("bundles-1", by: actor, .note))
    var empty = try Ticket()
    empty.refuse(ev.added("bundle-1", by: actor, .note))
  }

  @Test("editing or deleting an unknown, deleted or unseen entry is refused")
  func unknownOrDeletedEntries() throws {
    var t = try Ticket([
      ev.outsourced("bolt"), ev.accepted(), ev.added("n1", by: "acme", .note),
      ev.added("n0", by: "acme", .note, visibility: .internal),
      ev.added("a1", by: "bolt", .attachment, type: .url),
      ev.added("n2", by: "bolt", .note), ev.deleted("n1", by: "acme"),
      ev.deleted("n2", by: "acme"),
    ])
    for actor in ["acme", "bolt"] {
      t.refuse(ev.edited("nope", by: actor, text: "x"))
      t.refuse(ev.deleted("nope", by: actor))
    }
    t.refuse(ev.edited("n1", by: "acme", text: "x"))  // deleted by its owner
    t.refuse(ev.deleted("n1", by: "acme"))
    t.refuse(ev.edited("n1", by: "bolt", text: "x"))  // its copy went with it
    t.refuse(ev.edited("n2", by: "acme", text: "x"))  // the lead deleted its copy
    t.refuse(ev.deleted("n2", by: "acme"))
    t.refuse(ev.edited("n0", by: "bolt", text: "x"))  // internal: never in bolt's version
    t.refuse(ev.deleted("a1", by: "acme"))  // a link: never in acme's version
    try t.run(ev.edited("n2", by: "bolt", text: "still mine"))
  }

  @Test("an entry must carry exactly the fields of its kind, with sane values")
  func entryContentIsChecked() throws {
    var t = try Ticket([ev.outsourced("bolt"), ev.accepted(), ev.added("n1", by: "bolt", .note)])
    let bad: [EntryContent] = [
      EntryContent(kind: .note, hours: 1),
      EntryContent(kind: .time, text: "no hours"),
      EntryContent(kind: .time, hours: 0),
      EntryContent(kind: .time, hours: 1, visibility: .public),
      EntryContent(kind: .attachment, name: "no type"),
      EntryContent(kind: .attachment, attachmentType: .file),
      EntryContent(kind: .charge, title: "no amount"),
      EntryContent(kind: .note, visibility: .internalUsersOnly),
      EntryContent(text: "no kind"),
    ]
    for (index, content) in bad.enumerated() {
      t.refuse(ev.event("bolt", .entryAdded(entry: "x\(index)", content: content)))
    }
    t.refuse(ev.event("bolt", .entryEdited(entry: "n1", changes: EntryContent())))
    t.refuse(ev.edited("n1", by: "bolt", visibility: .internalUsersOnly))
  }

  @Test("a completion rejection needs a reason that is not blank", arguments: ["", "  \n"])
  func blankRejection(reason: String) throws {
    var t = try Ticket(Stage.waitingApproval.history)
    t.refuse(ev.rejected(reason: reason))
    try t.run(ev.rejected(reason: "Missing photo"))
  }

  @Test("a batch with a refused event appends nothing, and names the event")
  func refusedBatchAppendsNothing() throws {
    let log = try PartnerSyncLog.inMemory()
    try log.record([ev.outsourced("bolt")], now: Ticket.start)
    do {
      try log.record([ev.accepted(), ev.added("n1", by: "bolt", .note), ev.approved()], now: Ticket.start)
      Issue.record("the batch was appended")
    } catch {
      #expect(error.code == .invalidEvent && error.line == 3)
    }
    #expect(try log.lastPosition() == 1)
    #expect(try log.view(ticket: "T-1", as: "bolt").status == .assigned)
  }

  @Test("an event of another ticket is refused")
  func otherTicket() throws {
    var t = try Ticket([ev.outsourced("bolt")])
    t.refuse(EventBuilder(ticket: "T-2").accepted())
  }
}

@Suite("Identifiers")
struct IdentifierTests {
  /// Every byte value, after a first letter: accepted exactly when it is an ASCII letter or digit,
  /// `-`, `_`, `.` or `:`; and first only when it is a letter or digit.
  @Test("an identifier holds letters, digits, '-', '_', '.' and ':' only, and starts with a letter or digit")
  func everyByteIsJudgedByTheSyntax() {
    for value in 0...255 {
      let byte = UInt8(value)
      let scalar = Unicode.Scalar(byte)
      let alphanumeric =
        scalar.isASCII && (("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar))
      let allowed = alphanumeric || "-_.:".unicodeScalars.contains(scalar)
      let after = [UInt8(ascii: "a"), byte].withUnsafeBufferPointer { Identifier.problem(withBytes: $0) }
      #expect((after == nil) == allowed, "byte \(value) after a letter")
      let first = [byte, UInt8(ascii: "a")].withUnsafeBufferPointer { Identifier.problem(withBytes: $0) }
      #expect((first == nil) == alphanumeric, "byte \(value) first")
    }
    #expect(Identifier.problem(with: "T-100246.a:b_c") == nil)
    #expect(Identifier.problem(with: "") == "is empty")
    #expect(Identifier.problem(with: String(repeating: "a", count: 65)) != nil)
  }
}
