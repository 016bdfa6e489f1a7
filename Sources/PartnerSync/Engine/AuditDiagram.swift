/// Draws a ticket's sync decisions as a Mermaid sequence diagram between the partners.
///
/// The lead stands on the left, the service partners (in order of their first engagement) on the
/// right, and between them the **sync line** that every change meets: a `synced` change is a
/// solid arrow from `by` through it to `to`, a `released` one leaves it for `to`; a `not-synced`
/// change ends on it with a cross, a `held` one as a dotted arrow, a `dropped` one dotted with a
/// cross. Each decision sits in a block coloured by its outcome, labelled with its position, entry
/// (and a few words of its title), event, outcome, rule and transforms (`⇄note`, `⇄internal`). A
/// note opens each engagement and marks each handover. Everything from the history is escaped.
public enum AuditDiagram {
  /// The alias of the sync line's lifeline.
  static let syncLine = "S"

  /// The fill of a decision's block, by the colour of its outcome.
  static func fill(_ outcome: SyncOutcome) -> String {
    switch outcome {
    case .synced, .released: "rgb(221, 244, 221)"
    case .notSynced, .dropped: "rgb(251, 224, 224)"
    case .held: "rgb(255, 236, 196)"
    }
  }

  /// The longest caption shown for an entry's title, in characters, the ellipsis included.
  static let captionLength = 24
  /// The most words of a title shown.
  static let captionWords = 4

  /// The Mermaid source of the diagram.
  ///
  /// `partners` are the service partners in order of their first engagement; `titles` give an
  /// entry's caption by id (see ``TicketProjection/entryTitles``; without one, its kind is shown);
  /// each of `engagements` (see ``TicketProjection/engagementSummaries``) gets a note where its
  /// first decision is drawn, or where the next engagement starts.
  public static func mermaid(
    ticket: String, lead: String?, partners: [String], decisions: [SyncDecision],
    titles: [String: String] = [:], engagements: [EngagementSummary] = []
  ) -> String {
    var service: [String] = []
    for p in partners + engagements.map(\.partner) + decisions.flatMap({ [$0.by, $0.to] })
    where p != lead && !service.contains(p) {
      service.append(p)
    }
    let participants = (lead.map { [$0] } ?? []) + service
    func alias(_ partner: String) -> String { "P\(participants.firstIndex(of: partner) ?? 0)" }
    let first = participants.first.map(alias) ?? syncLine
    let last = participants.last.map(alias) ?? syncLine

    var lines = ["sequenceDiagram", "  title \(escape("Sync decisions of ticket \(ticket)"))"]
    if let lead {
      lines += ["  box rgb(236, 241, 250) lead", "    participant \(alias(lead)) as \(escape(lead))", "  end"]
    }
    lines += ["  box rgb(234, 234, 234)", "    participant \(syncLine) as sync line", "  end"]
    if !service.isEmpty {
      lines.append("  box rgb(244, 238, 250) service")
      for p in service { lines.append("    participant \(alias(p)) as \(escape(p))") }
      lines.append("  end")
    }

    guard !decisions.isEmpty else {
      for e in engagements { lines.append(note(e, previous: nil, over: "\(first),\(alias(e.partner))")) }
      lines.append("  Note over \(first),\(syncLine): no sync decisions yet")
      return lines.joined(separator: "\n") + "\n"
    }
    lines.append(
      "  Note over \(first),\(last): green → crossed · red × stopped at the sync line · amber ⇢ held · ⇄ copy transformed"
    )

    var announced = 0
    func announce(through number: Int) {
      while announced < number, announced < engagements.count {
        let previous = announced > 0 ? engagements[announced - 1] : nil
        let e = engagements[announced]
        lines.append(note(e, previous: previous, over: "\(first),\(alias(e.partner))"))
        announced += 1
      }
    }
    var open: String?
    for d in decisions {
      announce(through: d.engagement)
      let colour = fill(d.outcome)
      if open != colour {
        if open != nil { lines.append("  end") }
        lines.append("  rect \(colour)")
        open = colour
      }
      let arrow =
        switch d.outcome {
        case .synced: "\(alias(d.by))->>\(alias(d.to))"
        case .released: "\(syncLine)->>\(alias(d.to))"
        case .notSynced: "\(alias(d.by))-x\(syncLine)"
        case .held: "\(alias(d.by))-->>\(syncLine)"
        case .dropped: "\(alias(d.by))--x\(syncLine)"
        }
      lines.append("    \(arrow): \(label(d, title: titles[d.entry]))")
    }
    if open != nil { lines.append("  end") }
    announce(through: engagements.count)
    return lines.joined(separator: "\n") + "\n"
  }

  /// The label of one decision's arrow, escaped.
  static func label(_ d: SyncDecision, title: String?) -> String {
    var label = "\(d.position) \(escape(d.entry)) "
    label += title.map { "“\(escape(caption($0)))”" } ?? "(\(d.kind.rawValue))"
    if [.entryAdded, .entryEdited, .entryDeleted].contains(d.event) { label += " " + d.event.entryVerb }
    label += ": \(d.outcome.rawValue) [\(d.rule.rawValue)]"
    for t in d.transforms { label += " " + mark(t) }
    if let heldAt = d.heldAt { label += " (held at \(heldAt))" }
    return label
  }

  /// The short mark of a transform in a label.
  static func mark(_ transform: RuleID) -> String {
    switch transform {
    case .leadTimeAsNote: "⇄note"
    case .partnerItemsInternalUsersOnly: "⇄internal"
    default: "⇄\(transform.rawValue)"
    }
  }

  /// The note over `span` that opens engagement `e`: its partner and status now, and for a later
  /// engagement the handover from the one before.
  static func note(_ e: EngagementSummary, previous: EngagementSummary?, over span: String) -> String {
    let status =
      switch e.status {
      case .assigned: "offered, no answer yet"
      case .cancelled: "withdrawn by the lead"
      case .inProgress: "in progress"
      case .waitingApproval: "waiting for approval"
      case .declined, .accepted, .complete: e.status.rawValue
      }
    var text = "engagement \(e.number) → \(e.partner) · \(status)"
    if let previous { text = "handover from \(previous.partner) · " + text }
    return "  Note over \(span): \(escape(text))"
  }

  /// The first words of `title` on one line: at most `captionWords` whole words and
  /// `captionLength` characters, with an ellipsis when something was cut (a first word too long
  /// for the caption is cut itself).
  public static func caption(_ title: String) -> String {
    let words = title.split(whereSeparator: \.isWhitespace)
    let whole = words.joined(separator: " ")
    if words.count <= captionWords, whole.count <= captionLength { return whole }
    var text = ""
    for word in words.prefix(captionWords) {
      let longer = text.isEmpty ? String(word) : text + " " + word
      guard longer.count < captionLength else { break }
      text = longer
    }
    if text.isEmpty, let word = words.first { text = String(word.prefix(captionLength - 1)) }
    while let last = text.last, ",;:.".contains(last) { text.removeLast() }
    return text + "…"
  }

  /// Makes `text` safe inside a Mermaid label: characters with a meaning in Mermaid's syntax
  /// (`#`, `;`, `:`, `<`, `>`, `"`, `{`, `}`, `%`, `\\`, backquote) become entity codes; line
  /// breaks become spaces. (A label that begins with `wrap:` or `nowrap:` would otherwise lose
  /// that prefix: Mermaid reads it as a directive.)
  public static func escape(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
      switch scalar {
      case "#", ";", ":", "<", ">", "\"", "{", "}", "%", "\\", "`": out += "#\(scalar.value);"
      case "\n", "\r", "\t": out += " "
      case _ where scalar.value < 0x20: continue
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out
  }
}
