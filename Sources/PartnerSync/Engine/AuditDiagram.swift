/// Draws a ticket's sync decisions as a Mermaid sequence diagram between the partners.
///
/// Each decision is one arrow from the partner whose change it was (`by`) to the partner whose
/// version it is about (`to`): a solid arrow (`->>`) when the change crossed (`synced`,
/// `released`), a cross (`-x`) when it stopped at the line (`not-synced`, `dropped`), and a dashed
/// cross (`--x`) while it is `held`. Labels carry the position, the entry, the outcome and the
/// rule id; anything that comes from the history is escaped so that it cannot break the diagram.
public enum AuditDiagram {
  /// The Mermaid source of the diagram.
  ///
  /// - Parameters:
  ///   - ticket: The ticket, for the title.
  ///   - lead: The lead partner, drawn first.
  ///   - partners: The service partners, in order of their first engagement.
  ///   - decisions: The decisions to draw, in order.
  public static func mermaid(
    ticket: String, lead: String?, partners: [String], decisions: [SyncDecision]
  ) -> String {
    var participants: [String] = []
    if let lead { participants.append(lead) }
    for p in partners where !participants.contains(p) { participants.append(p) }
    for d in decisions {
      for p in [d.by, d.to] where !participants.contains(p) { participants.append(p) }
    }
    func alias(_ partner: String) -> String { "P\(participants.firstIndex(of: partner) ?? 0)" }

    var lines = ["sequenceDiagram", "  title \(escape("Sync decisions of ticket \(ticket)"))"]
    for p in participants {
      let role = p == lead ? "lead" : "service"
      lines.append("  participant \(alias(p)) as \(escape("\(p) (\(role))"))")
    }
    for d in decisions {
      let arrow: String
      switch d.outcome {
      case .synced, .released: arrow = "->>"
      case .notSynced, .dropped: arrow = "-x"
      case .held: arrow = "--x"
      }
      var label = "\(d.position) \(d.event.rawValue) \(d.entry): \(d.outcome.rawValue) [\(d.rule.rawValue)]"
      if !d.transforms.isEmpty { label += " +" + d.transforms.map(\.rawValue).joined(separator: " +") }
      if let heldAt = d.heldAt { label += " (held at \(heldAt))" }
      lines.append("  \(alias(d.by))\(arrow)\(alias(d.to)): \(escape(label))")
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// Makes `text` safe inside a Mermaid label: characters with a meaning in Mermaid's syntax
  /// (`#`, `;`, `<`, `>`, `"`, `{`, `}`, `%`, `\\`, backquote) become entity codes; line breaks become spaces.
  public static func escape(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
      switch scalar {
      case "#", ";", "<", ">", "\"", "{", "}", "%", "\\", "`":
        out += "#\(scalar.value);"
      case "\n", "\r", "\t":
        out += " "
      default:
        if scalar.value < 0x20 { continue }
        out.unicodeScalars.append(scalar)
      }
    }
    return out
  }
}
