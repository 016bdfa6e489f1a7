import Foundation
import PartnerSync
import Testing

@Suite("The HTTP server: each partner reaches its own version, and nothing else")
struct ServerTests {
  @Test func openRoutesAnswerWithoutAKey() throws {
    let fixture = try Fixture(partners: ["acme"])
    let health = try fixture.send("GET", "/health", as: nil)
    #expect(health.status == 200)
    #expect(try health.object()["status"] as? String == "ok")

    let document = try fixture.send("GET", "/openapi.json", as: nil)
    #expect(document.status == 200)
    #expect(Data(document.body) == APIDocument.bytes, "the server serves the repository's OpenAPI document")
    #expect(try document.object()["openapi"] as? String == "3.1.0")

    try fixture.send("GET", "/tickets/T-1/view", as: "acme")
    let metrics = try fixture.send("GET", "/metrics", as: nil)
    #expect(metrics.status == 200)
    #expect(metrics.text.contains(#"http_route="/tickets/{ticket}/view""#), "\(metrics.text)")
    // The view of a ticket not in the log counts as an error of its own status, 404.
    let errors = metrics.text.split(separator: "\n").filter { $0.hasPrefix("hb_request_errors{") }
    #expect(errors.contains { $0.contains(#"error_type="404""#) && $0.contains("{ticket}/view") }, "\(errors)")
    #expect(!errors.contains { $0.contains(#"error_type="500""#) }, "\(errors)")
  }

  @Test(arguments: [
    ("GET", "/tickets/T-1/view"), ("GET", "/tickets/T-1/audit"), ("GET", "/notifications"),
    ("POST", "/tickets/T-1/events"),
  ])
  func aRequestWithoutAValidKeyIs401(method: String, path: String) throws {
    let fixture = try Fixture(partners: ["acme", "bolt"])
    let body = method == "POST" ? Events.outsourced("T-1") : ""
    for key in [nil, "psk_00000000.\(String(repeating: "0", count: 64))", "acme"] as [String?] {
      let response = try fixture.send(method, path, as: key.map { $0 == "acme" ? "not a key" : $0 }, body: body)
      #expect(response.status == 401, "\(key ?? "no key"): \(response.text)")
      #expect(response.contentType == "application/problem+json")
      #expect(response.headers["www-authenticate"]?.hasPrefix("Bearer") == true)
    }
    let basic = try fixture.server.client.send(
      method, path, headers: ["Authorization": "Basic YWNtZTp4"], body: Array(body.utf8))
    #expect(basic.status == 401)
    // The scheme in any case, blanks around the key: still the key.
    let spaced = try fixture.server.client.send(
      "GET", "/notifications", headers: ["Authorization": "bearer \t \(try #require(fixture.keys["bolt"]))\t "])
    #expect(spaced.status == 200, "\(spaced.text)")
    // A key revoked while the server runs is refused at the next request.
    #expect(try fixture.send("GET", "/notifications", as: "bolt").status == 200)
    try fixture.revoke("bolt")
    let revoked = try fixture.send(method, path, as: "bolt", body: body)
    #expect(revoked.status == 401, "\(revoked.text)")
    // Nothing was appended by any of them.
    #expect(try fixture.send("GET", "/tickets/T-1/view", as: "acme").status == 404)
  }

  /// A key accepted once is remembered by its id; another secret under the same id is still 401.
  @Test func aRememberedKeyIsComparedWhole() throws {
    let fixture = try Fixture(partners: ["acme", "bolt"])
    let key = try #require(fixture.keys["bolt"])
    #expect(try fixture.send("GET", "/notifications", as: "bolt").status == 200)
    let last = key.last == "0" ? "1" : "0"
    for forged in [String(key.dropLast()) + last, String(key.dropLast()), key + "0"] {
      let response = try fixture.send("GET", "/notifications", as: forged)
      #expect(response.status == 401, "\(forged): \(response.text)")
    }
    #expect(try fixture.send("GET", "/notifications", as: "bolt").status == 200)
  }

  /// A view asked for again is answered again from what was made (the same document), and any
  /// event appended since, through the server or by another process, makes a new one.
  @Test(arguments: Backend.available)
  func aViewAskedForAgainFollowsEveryAppend(on backend: Backend) throws {
    let fixture = try Fixture(backend: backend)
    try fixture.record("T-1", as: "acme", [Events.outsourced("T-1")])
    try fixture.record("T-1", as: "bolt", [Events.accepted("T-1")])
    let first = try fixture.send("GET", "/tickets/T-1/view", as: "bolt")
    #expect(try fixture.send("GET", "/tickets/T-1/view", as: "bolt").body == first.body)
    #expect(try first.object()["position"] as? Int == 2)

    // Another ticket's event: the same entries, at the new position.
    try fixture.record("T-2", as: "acme", [Events.outsourced("T-2")])
    let moved = try fixture.view("T-1", as: "bolt")
    #expect(moved["position"] as? Int == 3)
    #expect((moved["entries"] as? [Any])?.count == (try first.object()["entries"] as? [Any])?.count)

    // A note of the lead's, appended by another writer of the file: bolt's copy is in the next answer.
    try PartnerSyncLog.open(url: fixture.server.logPath).importJSONLines(
      Array(Events.note("T-1", by: "acme", entry: "n1", text: "hello").utf8))
    let noted = try fixture.view("T-1", as: "bolt")
    #expect(noted["position"] as? Int == 4)
    #expect((noted["entries"] as? [[String: Any]])?.contains { $0["id"] as? String == "n1" } == true, "\(noted)")
    // As of position 2, still the first answer.
    #expect(try fixture.send("GET", "/tickets/T-1/view?at=2", as: "bolt").body == first.body)
  }

  @Test(arguments: Backend.available)
  func aPartnerRecordsAndReadsItsOwnVersion(on backend: Backend) throws {
    let fixture = try Fixture(backend: backend)
    let outsourced = try fixture.record("T-1", as: "acme", [Events.outsourced("T-1")])
    #expect(outsourced["count"] as? Int == 1)
    #expect(outsourced["firstPosition"] as? Int == 1 && outsourced["lastPosition"] as? Int == 1)
    let batch = try fixture.record(
      "T-1", as: "bolt",
      [
        Events.accepted("T-1"), "",
        Events.note("T-1", by: "bolt", entry: "n1", text: "On site"),
        Events.note("T-1", by: "bolt", entry: "n2", text: "Our own notes", visibility: "internal"),
      ])
    #expect(batch["count"] as? Int == 3 && batch["firstPosition"] as? Int == 2 && batch["lastPosition"] as? Int == 4)

    let bolt = try fixture.view("T-1", as: "bolt")
    #expect(bolt["role"] as? String == "service" && bolt["partner"] as? String == "bolt")
    #expect((bolt["entries"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["n1", "n2"])
    let acme = try fixture.view("T-1", as: "acme")
    #expect(acme["role"] as? String == "lead" && acme["position"] as? Int == 4)
    let acmeEntries = (acme["entries"] as? [[String: Any]]) ?? []
    #expect(
      acmeEntries.map { $0["origin"] as? String } == ["copy"], "the lead sees bolt's public note only: \(acmeEntries)")
    #expect(!String(describing: acme).contains("Our own notes"))

    let before = try fixture.view("T-1", as: "bolt", query: "?at=2")
    #expect(before["position"] as? Int == 2 && (before["entries"] as? [Any])?.isEmpty == true)

    let audit = try fixture.send("GET", "/tickets/T-1/audit?entry=n1", as: "bolt")
    #expect(audit.status == 200)
    let decisions = try audit.object()["decisions"] as? [[String: Any]] ?? []
    #expect(!decisions.isEmpty && decisions.allSatisfy { $0["entry"] as? String == "n1" })

    let page = try fixture.send("GET", "/notifications", as: "acme")
    #expect(page.status == 200)
    let notifications = try page.object()["notifications"] as? [[String: Any]] ?? []
    #expect(!notifications.isEmpty && notifications.allSatisfy { $0["partner"] as? String == "acme" })
    let next = try #require(try page.object()["next"] as? String)
    #expect(next == notifications.last?["id"] as? String)
    let after = try fixture.send("GET", "/notifications?after=\(next)", as: "acme")
    #expect((try after.object()["notifications"] as? [Any])?.isEmpty == true)
    let lastPosition = try #require(notifications.last?["position"] as? Int)
    let afterPosition = try fixture.send("GET", "/notifications?after=\(lastPosition)", as: "acme")
    #expect(afterPosition.status == 200)
    #expect((try afterPosition.object()["notifications"] as? [Any])?.isEmpty == true)
    let carl = try fixture.send("GET", "/notifications", as: "carl")
    #expect((try carl.object()["notifications"] as? [Any])?.isEmpty == true)
  }

  @Test func eventsOfAnotherPartnerAre403AndAppendNothing() throws {
    let fixture = try Fixture()
    try fixture.record("T-1", as: "acme", [Events.outsourced("T-1")])
    let response = try fixture.send(
      "POST", "/tickets/T-1/events", as: "bolt",
      body: [Events.accepted("T-1"), Events.note("T-1", by: "acme", entry: "n1", text: "forged")].joined(
        separator: "\n"))
    #expect(response.status == 403)
    #expect(response.contentType == "application/problem+json")
    #expect(try response.object()["line"] as? Int == 2)
    #expect(try fixture.position("T-1") == 1, "nothing of the batch was appended")
  }

  @Test func aTicketThePartnerWasNeverEngagedOnIsAnsweredLikeAMissingOne() throws {
    let fixture = try Fixture()
    try fixture.record(
      "T-1", as: "acme", [Events.outsourced("T-1"), Events.note("T-1", by: "acme", entry: "n1", text: "x")])
    let requests: [(String, String, String)] = [
      ("GET", "view", ""), ("GET", "view", "?at=1"), ("GET", "audit", ""), ("GET", "audit", "?entry=n1"),
      ("POST", "events", Events.accepted("{T}", by: "carl")),
    ]
    for (method, route, extra) in requests {
      let query = method == "GET" ? extra : ""
      let body = method == "POST" ? extra : ""
      let known = try fixture.send(
        method, "/tickets/T-1/\(route)\(query)", as: "carl", body: body.replacingOccurrences(of: "{T}", with: "T-1"))
      let missing = try fixture.send(
        method, "/tickets/T-9/\(route)\(query)", as: "carl", body: body.replacingOccurrences(of: "{T}", with: "T-9"))
      // A read is 404; a write is refused as the rules refuse it on a ticket that does not exist.
      #expect(known.status == (method == "GET" ? 404 : 422), "\(method) \(route)\(query): \(known.text)")
      #expect(known.status == missing.status)
      #expect(
        known.text.replacingOccurrences(of: "T-1", with: "T-9") == missing.text, "\(known.text) vs \(missing.text)")
      #expect(known.headers["content-length"].flatMap(Int.init).map { $0 == known.body.count } ?? true)
    }
    // Creating a ticket under a number that is taken is refused, and appends nothing.
    let taken = try fixture.send(
      "POST", "/tickets/T-1/events", as: "carl", body: Events.outsourced("T-1", by: "carl", to: "bolt"))
    #expect(taken.status == 409, "\(taken.text)")
    #expect(try fixture.position("T-1") == 2)
  }

  @Test func badInputGetsImportsMessageAndLineAndAppendsNothing() throws {
    let fixture = try Fixture()
    let history = [Events.outsourced("T-1"), Events.accepted("T-1")]
    try fixture.record("T-1", as: "acme", [history[0]])
    try fixture.record("T-1", as: "bolt", [history[1]])
    let documents = [
      // A line that is not an event, after a blank one.
      [
        Events.note("T-1", by: "bolt", entry: "n1", text: "a"), "",
        #"{"type":"entry-added","ticket":"T-1","by":"bolt"}"#,
      ],
      // An event the rules refuse: an edit of an entry that does not exist.
      [
        Events.note("T-1", by: "bolt", entry: "n1", text: "a"),
        #"{"type":"entry-edited","ticket":"T-1","by":"bolt","entry":"zz","text":"b"}"#,
      ],
      // Not JSON.
      ["{nope"],
    ]
    /// What `import` says of `document` after the history.
    func refusal(_ document: String) throws -> PartnerSyncError? {
      let reference = try PartnerSyncLog.inMemory()
      try reference.importJSONLines(Array(history.joined(separator: "\n").utf8))
      do throws(PartnerSyncError) {
        try reference.importJSONLines(Array(document.utf8))
        Issue.record("the reference import accepted \(document)")
        return nil
      } catch {
        return error
      }
    }
    for lines in documents {
      let document = lines.joined(separator: "\n")
      guard let expected = try refusal(document) else { continue }
      let response = try fixture.send("POST", "/tickets/T-1/events", as: "bolt", body: document)
      #expect(response.status == 422, "\(response.text)")
      let problem = try response.object()
      #expect(problem["detail"] as? String == expected.description)
      #expect(problem["line"] as? Int == expected.line)
      #expect(problem["code"] as? String == "invalid-event")
    }
    // The same as a JSON array: an element is named by its index from 1.
    let array = "[\(Events.note("T-1", by: "bolt", entry: "n1", text: "a")), {\"type\":\"accepted\"}]"
    let response = try fixture.send(
      "POST", "/tickets/T-1/events", as: "bolt", body: array, headers: ["Content-Type": "application/json"])
    #expect(response.status == 422)
    #expect(try response.object()["line"] as? Int == 2)
    #expect(try fixture.position("T-1") == 2, "nothing was appended")

    // A fault inside an element, pretty-printed or not: import's words for the element as a line.
    let arrays = [
      [
        Events.note("T-1", by: "bolt", entry: "n1", text: "a"),
        #"{"type":"entry-added","ticket":"T-1","by":"bolt","entry":"e","kind":"note","kind":"time"}"#,
      ],
      [#"{"type":"entry-added","ticket":"T-1","by":"bolt","entry":"t9","kind":"time","hours":1e400}"#],
      [#"{"type":"entry-added","ticket":"T-1","by":"bolt","entry":"n2","kind":"note","text":"\ud800"}"#],
      [
        Events.note("T-1", by: "bolt", entry: "n1", text: "a"),
        "{\"type\":\"entry-edited\",\n    \"ticket\":\"T-1\",\"by\":\"bolt\",\"entry\":\"zz\",\"text\":\"b\"}",
      ],
    ]
    for elements in arrays {
      let lines = elements.map { $0.replacingOccurrences(of: "\n", with: " ") }.joined(separator: "\n")
      guard let expected = try refusal(lines) else { continue }
      let response = try fixture.send(
        "POST", "/tickets/T-1/events", as: "bolt", body: "[\n  " + elements.joined(separator: ",\n  ") + "\n]",
        headers: ["Content-Type": "application/json"])
      #expect(response.status == 422, "\(response.text)")
      let problem = try response.object()
      #expect(problem["detail"] as? String == expected.description)
      #expect(problem["line"] as? Int == expected.line)
    }
    // An array whose own commas or brackets are wrong: where, in bytes.
    for body in ["[", "[{}", "[{},]", "[,]", "[{}] x", "[{}}"] {
      let response = try fixture.send("POST", "/tickets/T-1/events", as: "bolt", body: body)
      #expect(response.status == 422, "\(body): \(response.text)")
      #expect((try response.object()["detail"] as? String)?.hasPrefix("the body is not a valid JSON array: ") == true)
    }
    #expect(try fixture.position("T-1") == 2, "nothing was appended")
  }

  /// The other partner's internal entries show in no refusal and in no point in the past, and a
  /// partner never engaged on a ticket learns nothing of the log from a point in the past.
  @Test func hiddenEntriesShowInNoRefusalAndNoPointInThePast() throws {
    let fixture = try Fixture()
    func stamped(_ line: String, _ time: String) -> String { String(line.dropLast()) + #","at":"\#(time)"}"# }
    try fixture.record("T-1", as: "acme", [stamped(Events.outsourced("T-1"), "2026-05-01T09:00:00Z")])
    try fixture.record(
      "T-1", as: "bolt",
      [
        stamped(Events.accepted("T-1"), "2026-05-01T09:10:00Z"),
        stamped(Events.note("T-1", by: "bolt", entry: "n1", text: "On site"), "2026-05-01T09:20:00Z"),
      ])
    try fixture.record(
      "T-1", as: "acme",
      [
        stamped(
          Events.note("T-1", by: "acme", entry: "s1", text: "secret", visibility: "internal"), "2026-05-01T12:34:56Z")
      ])

    // As of a time: where bolt's view stands does not move at acme's internal note.
    let before = try fixture.send("GET", "/tickets/T-1/view?at=2026-05-01T12:34:55Z", as: "bolt")
    #expect(try before.object()["position"] as? Int == 3, "\(before.text)")
    for time in ["2026-05-01T12:34:56Z", "2026-05-01T23:59:59Z", "9999-12-31T23:59:59Z"] {
      #expect(try fixture.send("GET", "/tickets/T-1/view?at=\(time)", as: "bolt").body == before.body, "\(time)")
      let audit = try fixture.send("GET", "/tickets/T-1/audit?entry=zz&at=\(time)", as: "bolt")
      let earlier = try fixture.send("GET", "/tickets/T-1/audit?entry=zz&at=2026-05-01T12:34:55Z", as: "bolt")
      #expect(audit.status == 404 && audit.text == earlier.text, "\(audit.text)")
    }
    #expect(try fixture.view("T-1", as: "acme", query: "?at=2026-05-01T12:34:56Z")["position"] as? Int == 4)
    let tooEarly = try fixture.send("GET", "/tickets/T-1/view?at=2026-05-01T09:05:00Z", as: "bolt")
    #expect(tooEarly.status == 200, "bolt was offered the ticket at 09:00: \(tooEarly.text)")

    // A refused edit or delete: the same words for acme's internal note as for an id never used.
    for change in [#""type":"entry-edited","text":"x""#, #""type":"entry-deleted""#] {
      func refusal(_ entry: String) throws -> String {
        let response = try fixture.send(
          "POST", "/tickets/T-1/events", as: "bolt",
          body: #"{\#(change),"ticket":"T-1","by":"bolt","entry":"\#(entry)"}"#)
        #expect(response.status == 422)
        return try response.object()["detail"] as? String ?? ""
      }
      #expect(try refusal("s1").replacingOccurrences(of: "'s1'", with: "'zz'") == refusal("zz"))
    }

    // Never engaged: a point in the past tells nothing of the log (its first time, its positions).
    for query in ["?at=2000-01-01T00:00:00Z", "?at=999999", "?at=1"] {
      for route in ["view", "audit"] {
        let known = try fixture.send("GET", "/tickets/T-1/\(route)\(query)", as: "carl")
        let missing = try fixture.send("GET", "/tickets/T-9/\(route)\(query)", as: "carl")
        #expect(known.status == 404 && known.text.replacingOccurrences(of: "T-1", with: "T-9") == missing.text)
        #expect(
          try known.object()["detail"] as? String == "ticket T-1 is not in the log", "\(route)\(query): \(known.text)")
      }
    }
    #expect(try fixture.position("T-1") == 4, "nothing refused was appended")
  }

  @Test func aJSONArrayBodyIsRecordedLikeJSONLines() throws {
    let fixture = try Fixture()
    let body = "[\(Events.outsourced("T-1")),\n \(Events.note("T-1", by: "acme", entry: "n1", text: "x"))]"
    let response = try fixture.send(
      "POST", "/tickets/T-1/events", as: "acme", body: body, headers: ["Content-Type": "application/json"])
    #expect(response.status == 201)
    #expect(try response.object()["count"] as? Int == 2)
    #expect(try fixture.position("T-1") == 2)
  }

  @Test func aBodyOverTheLimitIs413AndAppendsNothing() throws {
    let fixture = try Fixture(arguments: ["--max-body", "2048"])
    try fixture.record("T-1", as: "acme", [Events.outsourced("T-1")])
    let lines = (1...40).map { Events.note("T-1", by: "acme", entry: "n\($0)", text: "some text") }
    let response = try fixture.send("POST", "/tickets/T-1/events", as: "acme", body: lines.joined(separator: "\n"))
    #expect(response.status == 413)
    #expect(response.contentType == "application/problem+json")
    #expect(try fixture.position("T-1") == 1)
  }

  @Test func aStalledBodyTimesOutAndAppendsNothing() throws {
    let fixture = try Fixture(arguments: ["--body-timeout", "1"])
    try fixture.record("T-1", as: "acme", [Events.outsourced("T-1")])
    let connection = try fixture.server.client.connect()
    let line = Array(Events.note("T-1", by: "acme", entry: "n1", text: "x").utf8)
    let key = try #require(fixture.keys["acme"])
    try connection.write(
      HTTPClient.head("POST", "/tickets/T-1/events", key: key, headers: [:], length: line.count) + line.prefix(10))
    let started = Date()
    let response = try connection.readResponse()
    #expect(response.status == 408)
    #expect(Date().timeIntervalSince(started) < 10)
    APIDocument.expectConforms("POST", "/tickets/T-1/events", response)
    #expect(try fixture.position("T-1") == 1)
  }

  @Test(arguments: [
    "/tickets/T-1/view?at=yesterday", "/tickets/T-1/view?engagement=0",
    "/tickets/T-1/audit?at=nope", "/notifications?after=x", "/notifications?after=", "/notifications?limit=0",
  ])
  func aMalformedQueryIs400(path: String) throws {
    let fixture = try Fixture(partners: ["acme"])
    try fixture.record("T-1", as: "acme", [Events.outsourced("T-1")])
    let response = try fixture.send("GET", path, as: "acme")
    #expect(response.status == 400, "\(response.text)")
    #expect(response.contentType == "application/problem+json")
  }

  /// A position past the log is out of range; a time before the ticket, or before the whole log
  /// (which a scoped read does not tell apart), finds no event of the ticket yet.
  @Test(arguments: [
    ("/tickets/T-1/view?at=99", "out-of-range"), ("/tickets/T-1/audit?at=1999-01-01T00:00:00Z", "unknown-ticket"),
    ("/tickets/T-1/view?at=1999-01-01T00:00:00Z", "unknown-ticket"),
  ])
  func aPointOutsideTheLogIs404(path: String, code: String) throws {
    let fixture = try Fixture(partners: ["acme"])
    try fixture.record("T-1", as: "acme", [Events.outsourced("T-1")])
    let response = try fixture.send("GET", path, as: "acme")
    #expect(response.status == 404, "\(response.text)")
    #expect(try response.object()["code"] as? String == code)
  }

  @Test func aPathOfTheAPIWithAnotherMethodIs405() throws {
    let fixture = try Fixture(partners: ["acme"])
    let response = try fixture.server.client.send("DELETE", "/tickets/T-1/view", key: fixture.keys["acme"])
    #expect(response.status == 405)
    #expect(response.headers["allow"] == "GET")
    #expect(response.contentType == "application/problem+json")
    let post = try fixture.server.client.send("GET", "/tickets/T-1/events", key: fixture.keys["acme"])
    #expect(post.status == 405 && post.headers["allow"] == "POST")
    #expect(try fixture.server.client.send("GET", "/nowhere").status == 404)
  }
}
