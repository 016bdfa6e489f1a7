import Foundation
import PartnerSync
import Testing

/// An integrator decodes what the command line prints with `JSONDecoder` into the library's
/// values, equal to those the library returns.
@Suite struct DecodingTests {
  @Test func commandLineJSONDecodesIntoTheLibrarysValues() throws {
    try withTemporaryDirectory { dir in
      #expect(try CLI.run(["demo"], in: dir).code == 0)
      let db = dir.appendingPathComponent("partnersync.sqlite")
      let log = try PartnerSyncLog.open(path: db.path, readOnly: true)
      let decoder = JSONDecoder()
      for (partner, at) in [("acme", "12"), ("bolt", "12"), ("bolt", "9"), ("acme", "2026-03-02T12:00:00Z")] {
        let printed = try CLI.run([
          "--db", db.path, "view", "DEMO-1001", "--as", partner, "--at", at, "--format", "json",
        ])
        #expect(printed.code == 0, "\(printed.err)")
        let point: PartnerSyncLog.Point =
          Int64(at).map { .position($0) } ?? .time(Timestamp(rfc3339: at)!)
        let view = try decoder.decode(TicketView.self, from: Data(printed.out.utf8))
        #expect(view == (try log.view(ticket: "DEMO-1001", as: partner, at: point)))
      }

      struct Outbox: Decodable { var notifications: [PartnerNotification] }
      let printed = try CLI.run(["--db", db.path, "notifications", "--format", "json"])
      let outbox = try decoder.decode(Outbox.self, from: Data(printed.out.utf8))
      #expect(!outbox.notifications.isEmpty)
      #expect(outbox.notifications == (try log.notifications()))

      let exported = try CLI.run(["--db", db.path, "export"])
      let lines = exported.out.split(separator: "\n")
      var events: [RecordedEvent] = []
      try log.forEachEvent { events.append($0) }
      #expect(lines.count == events.count)
      for (line, recorded) in zip(lines, events) {
        #expect(try decoder.decode(TicketEvent.self, from: Data(line.utf8)) == recorded.event)
      }
    }
  }
}
