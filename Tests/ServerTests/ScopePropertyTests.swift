import Foundation
import Testing

/// A small seeded generator: a failing history is replayed from its seed.
struct SplitMix: RandomNumberGenerator {
  var state: UInt64
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

@Suite("Two partners acting on random histories never reach each other's internal entries")
struct ScopePropertyTests {
  /// What one partner has written that the other must never receive.
  struct Secrets {
    var ids: Set<String> = []
    var texts: Set<String> = []
    /// Tickets the other may not know: their numbers must not reach it unasked.
    var tickets: Set<String> = []

    func leaks(in text: String) -> [String] {
      (ids.union(texts).union(tickets)).filter { text.contains($0) }.sorted()
    }
  }

  final class Actor {
    let name: String
    var secrets = Secrets()
    /// Own entries per ticket, and whether each is internal.
    var entries: [String: [(id: String, internal: Bool)]] = [:]
    init(_ name: String) { self.name = name }
  }

  @Test(arguments: [UInt64(0x5EED_0001), 0x5EED_0002, 0x5EED_0003])
  func neitherPartnerEverReceivesTheOthersInternalEntries(seed: UInt64) throws {
    var random = SplitMix(state: seed)
    let fixture = try Fixture()
    let acme = Actor("acme")
    let bolt = Actor("bolt")
    var tickets: [String] = []
    var counter = 0
    // Markers no answer holds by chance (`q` never follows a digit in a server's answer).
    func unique(_ prefix: String) -> String {
      counter += 1
      return "\(prefix)\(counter)q"
    }

    for round in 0..<6 {
      let ticket = "T-\(seed % 1000)-\(round)"
      tickets.append(ticket)
      // A quarter of acme's tickets go to carl: bolt must not learn they exist.
      let partner = Int.random(in: 0..<4, using: &random) == 0 ? "carl" : "bolt"
      try fixture.record(ticket, as: "acme", [Events.outsourced(ticket, to: partner)])
      if partner == "carl" { acme.secrets.tickets.insert(ticket) }

      for _ in 0..<14 {
        let actor = partner == "bolt" && Bool.random(using: &random) ? bolt : acme
        var lines: [String] = []
        for _ in 0..<Int.random(in: 1...3, using: &random) {
          lines.append(randomEvent(ticket: ticket, actor: actor, random: &random, unique: unique))
        }
        let asArray = Bool.random(using: &random)
        let body = asArray ? "[" + lines.joined(separator: ",") + "]" : lines.joined(separator: "\n")
        var headers: [String: String] = [:]
        if Bool.random(using: &random) { headers["Idempotency-Key"] = unique("key") }
        let response = try fixture.send(
          "POST", "/tickets/\(ticket)/events", as: actor.name, body: body, headers: headers)
        #expect([201, 422].contains(response.status), "seed \(seed): \(response.status) \(response.text)")
      }
    }

    for (reader, other) in [(acme, bolt), (bolt, acme)] {
      var answers: [String] = []
      for ticket in tickets {
        let asked = other.secrets.tickets.contains(ticket)
        for path in [
          "/tickets/\(ticket)/view", "/tickets/\(ticket)/view?at=\(Int.random(in: 1...40, using: &random))",
          "/tickets/\(ticket)/audit",
        ] {
          let response = try fixture.send("GET", path, as: reader.name)
          #expect([200, 400, 404].contains(response.status), "seed \(seed): \(path) \(response.text)")
          if asked {
            let missing = try fixture.send(
              "GET", path.replacingOccurrences(of: ticket, with: "T-missing"), as: reader.name)
            #expect(
              response.text.replacingOccurrences(of: ticket, with: "T-missing") == missing.text,
              "seed \(seed): \(reader.name) learns of \(ticket): \(response.text)")
          } else {
            answers.append(response.text)
          }
        }
        for entry in (reader.entries[ticket] ?? []).map(\.id) {
          answers.append(try fixture.send("GET", "/tickets/\(ticket)/audit?entry=\(entry)", as: reader.name).text)
        }
      }
      let page = try fixture.send("GET", "/notifications?limit=1000", as: reader.name)
      answers.append(page.text)
      let count = (try page.object()["notifications"] as? [Any])?.count ?? 0
      var stream = try EventStream(fixture, as: reader.name)
      answers += try stream.next(count).map(\.data)
      stream.connection.close()

      for answer in answers {
        let leaks = other.secrets.leaks(in: answer)
        #expect(leaks.isEmpty, "seed \(seed): \(reader.name) received \(leaks) of \(other.name) in \(answer)")
      }
      // The history was not trivial: the reader's own internal entries were appended, and it
      // reads them; they were there to leak.
      let own = reader.secrets.ids.filter { id in answers.contains { $0.contains(id) } }
      #expect(!own.isEmpty, "seed \(seed): \(reader.name) reads none of its own internal entries")
    }
  }

  /// A random event by `actor` on `ticket`: often refused by the rules, which is part of the test.
  func randomEvent(
    ticket: String, actor: Actor, random: inout SplitMix, unique: (String) -> String
  ) -> String {
    let own = actor.entries[ticket] ?? []
    switch Int.random(in: 0..<10, using: &random) {
    case 0..<5:
      let isInternal = Bool.random(using: &random)
      let id = unique(actor.name.prefix(1) + (isInternal ? "i" : "p"))
      let text = unique(isInternal ? "secret-\(actor.name)-" : "shared-\(actor.name)-")
      actor.entries[ticket, default: []].append((id, isInternal))
      if isInternal {
        actor.secrets.ids.insert(id)
        actor.secrets.texts.insert(text)
      }
      if Bool.random(using: &random) {
        return Events.note(
          ticket, by: actor.name, entry: id, text: text, visibility: isInternal ? "internal" : "public")
      }
      return
        #"{"type":"entry-added","ticket":"\#(ticket)","by":"\#(actor.name)","entry":"\#(id)","kind":"time","hours":1.5,"visibility":"\#(isInternal ? "internal" : "public")","text":"\#(text)"}"#
    case 5:
      guard let entry = own.randomElement(using: &random) else { fallthrough }
      let text = unique(entry.internal ? "secret-\(actor.name)-" : "shared-\(actor.name)-")
      if entry.internal { actor.secrets.texts.insert(text) }
      return
        #"{"type":"entry-edited","ticket":"\#(ticket)","by":"\#(actor.name)","entry":"\#(entry.id)","text":"\#(text)"}"#
    case 6:
      guard let entry = own.randomElement(using: &random) else { fallthrough }
      return #"{"type":"entry-deleted","ticket":"\#(ticket)","by":"\#(actor.name)","entry":"\#(entry.id)"}"#
    default:
      let types =
        actor.name == "acme"
        ? ["completion-approved", "cancelled"]
        : ["accepted", "accepted", "completion-requested", "declined"]
      return #"{"type":"\#(types.randomElement(using: &random)!)","ticket":"\#(ticket)","by":"\#(actor.name)"}"#
    }
  }
}
