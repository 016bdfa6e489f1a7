import Foundation
import Testing

/// A Server-Sent Events reader over one connection.
struct EventStream {
  struct Event: Equatable {
    var id: String
    var data: String
  }

  let connection: HTTPClient.Connection
  let status: Int
  let contentType: String
  private var pending = ""

  init(_ fixture: Fixture, as partner: String, lastEventID: String? = nil) throws {
    connection = try fixture.server.client.connect()
    var headers: [String: String] = [:]
    if let lastEventID { headers["Last-Event-ID"] = lastEventID }
    try connection.write(
      HTTPClient.head(
        "GET", "/notifications/stream", key: fixture.keys[partner], headers: headers, length: nil))
    let head = try connection.readHead()
    status = head.status
    contentType = head.headers["content-type"] ?? ""
  }

  /// The next `count` events (comments skipped); fewer when the stream ends.
  mutating func next(_ count: Int) throws -> [Event] {
    var events: [Event] = []
    while events.count < count {
      if let end = pending.range(of: "\n\n") {
        let block = pending[..<end.lowerBound]
        pending.removeSubrange(..<end.upperBound)
        var id: String?
        var data: String?
        for line in block.split(separator: "\n") {
          if line.hasPrefix("id: ") { id = String(line.dropFirst(4)) }
          if line.hasPrefix("data: ") { data = String(line.dropFirst(6)) }
        }
        if let id, let data { events.append(Event(id: id, data: data)) }
        continue
      }
      guard let chunk = try connection.readChunk() else { break }
      pending += String(decoding: chunk, as: UTF8.self)
    }
    return events
  }
}

@Suite("Live notifications as Server-Sent Events, and shutting down")
struct StreamTests {
  /// The ids of every notification of `partner`, from the stored outbox.
  func storedIDs(_ fixture: Fixture, as partner: String) throws -> [String] {
    let page = try fixture.send("GET", "/notifications?limit=1000", as: partner)
    return (try page.object()["notifications"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
  }

  @Test func aDroppedStreamResumesFromLastEventID() throws {
    let fixture = try Fixture()
    try fixture.record("T-1", as: "acme", [Events.outsourced("T-1")])
    try fixture.record(
      "T-1", as: "bolt",
      [Events.accepted("T-1")] + (1...3).map { Events.note("T-1", by: "bolt", entry: "n\($0)", text: "note \($0)") })
    let before = try storedIDs(fixture, as: "acme")
    #expect(before.count >= 3, "\(before)")

    var first = try EventStream(fixture, as: "acme")
    #expect(first.status == 200 && first.contentType.hasPrefix("text/event-stream"))
    let seen = try first.next(2)
    #expect(seen.map(\.id) == Array(before.prefix(2)))
    for event in seen {
      let object = try JSONSerialization.jsonObject(with: Data(event.data.utf8)) as? [String: Any]
      #expect(object?["id"] as? String == event.id && object?["partner"] as? String == "acme")
    }
    first.connection.close()

    // While the client is away, more notifications are stored.
    try fixture.record("T-1", as: "bolt", [Events.note("T-1", by: "bolt", entry: "n9", text: "later")])
    let all = try storedIDs(fixture, as: "acme")
    #expect(all.count > before.count)

    var resumed = try EventStream(fixture, as: "acme", lastEventID: seen.last?.id)
    let rest = try resumed.next(all.count - 2)
    #expect(rest.map(\.id) == Array(all.dropFirst(2)), "no notification lost, none twice")

    // Live: a notification stored now arrives on the open stream.
    try fixture.record("T-1", as: "bolt", [Events.note("T-1", by: "bolt", entry: "n10", text: "live")])
    let live = try resumed.next(1)
    #expect(live.count == 1 && live.first?.data.contains("n10") == true, "\(live)")
    resumed.connection.close()

    // Another partner's stream holds its own notifications, and only them.
    let bolts = try storedIDs(fixture, as: "bolt")
    #expect(!bolts.isEmpty)
    var bolt = try EventStream(fixture, as: "bolt")
    let received = try bolt.next(bolts.count)
    #expect(received.map(\.id) == bolts)
    #expect(received.allSatisfy { $0.data.contains(#""partner":"bolt""#) && !$0.data.contains(#""partner":"acme""#) })
    bolt.connection.close()
  }

  /// Whether the server still has a socket of the connection from `client` on loopback to its
  /// `port` (`/proc/net/tcp`), in any state.
  func serverHolds(port: Int, client: Int) throws -> Bool {
    // Read to the end: the kernel hands the table over a page at a time.
    let file = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/proc/net/tcp"))
    defer { try? file.close() }
    let table = String(decoding: try file.readToEnd() ?? Data(), as: UTF8.self)
    let local = String(format: "0100007F:%04X", port)
    let remote = String(format: "0100007F:%04X", client)
    return table.split(separator: "\n").contains { line in
      let fields = line.split(separator: " ")
      return fields.count > 2 && fields[1] == local && fields[2] == remote
    }
  }

  /// The server process's open sockets.
  func openSockets(_ fixture: Fixture) throws -> Int {
    let folder = "/proc/\(fixture.server.process.processIdentifier)/fd"
    return try FileManager.default.contentsOfDirectory(atPath: folder).filter {
      (try? FileManager.default.destinationOfSymbolicLink(atPath: folder + "/" + $0))?.hasPrefix("socket:") == true
    }.count
  }

  /// A client that goes away without a word: the server notices at the stream's next heartbeat,
  /// closes its side and stops reading the log for it (it kept both before, for good).
  @Test func aStreamWhoseClientWentAwayIsClosed() throws {
    let fixture = try Fixture(arguments: ["--stream-heartbeat", "0.1"], partners: ["acme"])
    let sockets = try openSockets(fixture)
    let stream = try EventStream(fixture, as: "acme")
    #expect(stream.status == 200)
    let opening = try stream.connection.readChunk().map { String(decoding: $0, as: UTF8.self) }
    #expect(opening?.hasPrefix(": partnersync notifications of acme") == true)
    // Nothing new to send: heartbeats, comments that clients skip.
    for _ in 0..<2 {
      #expect(try stream.connection.readChunk() == Array(":\n\n".utf8))
    }
    func streamsOpen() throws -> String? {
      try fixture.send("GET", "/metrics", as: nil).text.split(separator: "\n")
        .first { $0.hasPrefix("partnersync_notification_streams ") }.map { String($0.split(separator: " ")[1]) }
    }
    #expect(try streamsOpen() == "1.0")
    let client = stream.connection.localPort
    #expect(try serverHolds(port: fixture.server.port, client: client))
    stream.connection.close()
    let deadline = Date().addingTimeInterval(10)
    while try serverHolds(port: fixture.server.port, client: client), Date() < deadline {
      Thread.sleep(forTimeInterval: 0.05)
    }
    #expect(try !serverHolds(port: fixture.server.port, client: client), "the server kept the connection")
    // Its socket closed too, not only reset by the kernel, and the stream ended.
    while try openSockets(fixture) > sockets, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
    #expect(try openSockets(fixture) == sockets)
    while try streamsOpen() != "0.0", Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
    #expect(try streamsOpen() == "0.0")
  }

  /// A key revoked while its stream is open: the stream ends before it sends anything more.
  @Test func aStreamEndsOnceItsKeyIsRevoked() throws {
    let fixture = try Fixture(arguments: ["--stream-heartbeat", "0.2"])
    try fixture.record("T-1", as: "acme", [Events.outsourced("T-1")])
    var stream = try EventStream(fixture, as: "bolt")
    #expect(try stream.next(1).first?.data.contains("T-1") == true)
    try fixture.revoke("bolt")
    try fixture.record("T-2", as: "acme", [Events.outsourced("T-2")])
    // Heartbeats come every 0.2 s: the stream ends within a few, and sends nothing more.
    var received = ""
    var ended = false
    let deadline = Date().addingTimeInterval(10)
    while !ended, Date() < deadline {
      if let chunk = try stream.connection.readChunk() {
        received += String(decoding: chunk, as: UTF8.self)
      } else {
        ended = true
      }
    }
    #expect(ended, "the stream went on: \(received)")
    #expect(!received.contains("T-2"), "\(received)")
    #expect(try fixture.send("GET", "/notifications/stream", as: "bolt").status == 401)
  }

  @Test func aMalformedLastEventIDIs400() throws {
    let fixture = try Fixture(partners: ["acme"])
    let response = try fixture.send("GET", "/notifications/stream", as: "acme", headers: ["Last-Event-ID": "nope"])
    #expect(response.status == 400)
    #expect(response.contentType == "application/problem+json")
    let query = try fixture.send(
      "GET", "/notifications/stream?after=nope", as: "acme", headers: ["Last-Event-ID": "1-0"])
    #expect(query.status == 400, "a malformed after is refused even beside a Last-Event-ID")
  }

  @Test func sigtermShutsDownGracefullyEvenWithAnOpenStream() throws {
    let fixture = try Fixture(partners: ["acme"])
    var stream = try EventStream(fixture, as: "acme")
    #expect(stream.status == 200)
    let started = Date()
    let status = fixture.server.stop(signal: SIGTERM)
    #expect(fixture.server.process.terminationReason == .exit)
    #expect(status == 0)
    #expect(Date().timeIntervalSince(started) < 10)
    // The stream ended cleanly: its last chunk, then the end of the connection.
    #expect(try stream.next(1).isEmpty)
  }
}
