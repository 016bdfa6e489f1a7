import Foundation
import Testing

@Suite("Idempotency-Key: a retried POST returns the first answer and appends nothing twice")
struct IdempotencyTests {
  @Test(arguments: Backend.available)
  func aRetryWithTheSameKeyReturnsTheFirstAnswer(on backend: Backend) throws {
    let fixture = try Fixture(backend: backend)
    let body = [Events.outsourced("T-1"), Events.note("T-1", by: "acme", entry: "n1", text: "x")].joined(
      separator: "\n")
    let first = try fixture.send(
      "POST", "/tickets/T-1/events", as: "acme", body: body, headers: ["Idempotency-Key": "k-1"])
    #expect(first.status == 201)
    #expect(first.headers["idempotent-replayed"] == nil)
    let retry = try fixture.send(
      "POST", "/tickets/T-1/events", as: "acme", body: body, headers: ["Idempotency-Key": "k-1"])
    #expect(retry.status == 201)
    #expect(retry.body == first.body)
    #expect(retry.headers["idempotent-replayed"] == "true")
    #expect(try fixture.position("T-1") == 2, "the retry appended nothing")

    // The same key for another request is refused; another key is another request.
    let other = Events.note("T-1", by: "acme", entry: "n2", text: "y")
    let reused = try fixture.send(
      "POST", "/tickets/T-1/events", as: "acme", body: other, headers: ["Idempotency-Key": "k-1"])
    #expect(reused.status == 422)
    #expect(try fixture.position("T-1") == 2)
    let fresh = try fixture.send(
      "POST", "/tickets/T-1/events", as: "acme", body: other, headers: ["Idempotency-Key": "k-2"])
    #expect(fresh.status == 201)
    #expect(try fixture.position("T-1") == 3)
  }

  @Test(arguments: Backend.available)
  func aKeyIsThePartnersOwn(on backend: Backend) throws {
    let fixture = try Fixture(backend: backend)
    try fixture.record("T-1", as: "acme", [Events.outsourced("T-1")])
    let acme = try fixture.send(
      "POST", "/tickets/T-1/events", as: "acme", body: Events.note("T-1", by: "acme", entry: "n1", text: "x"),
      headers: ["Idempotency-Key": "same"])
    let bolt = try fixture.send(
      "POST", "/tickets/T-1/events", as: "bolt", body: Events.accepted("T-1"), headers: ["Idempotency-Key": "same"])
    #expect(acme.status == 201 && bolt.status == 201, "\(bolt.text)")
    #expect(try fixture.position("T-1") == 3)
  }

  @Test(arguments: Backend.available)
  func aRefusedBatchIsRefusedAgainOnRetry(on backend: Backend) throws {
    let fixture = try Fixture(backend: backend)
    try fixture.record("T-1", as: "acme", [Events.outsourced("T-1")])
    let bad = #"{"type":"entry-edited","ticket":"T-1","by":"acme","entry":"nope","text":"x"}"#
    for _ in 0..<2 {
      let response = try fixture.send(
        "POST", "/tickets/T-1/events", as: "acme", body: bad, headers: ["Idempotency-Key": "k"])
      #expect(response.status == 422)
    }
    #expect(try fixture.position("T-1") == 1)
  }

  @Test(arguments: Backend.available)
  func aRetryAfterTheServerWasKilledBetweenTheAppendAndTheAnswerAppendsNothing(on backend: Backend) throws {
    let fixture = try Fixture(environment: ["PARTNERSYNC_SERVER_FAULT": "kill-after-append"], backend: backend)
    // Without `at`: the events get the time of their first try, which the retry must find.
    let body = [Events.outsourced("T-1"), Events.note("T-1", by: "acme", entry: "n1", text: "x")].joined(
      separator: "\n")
    #expect(throws: HTTPClient.Failure.self, "the server dies before it answers") {
      try fixture.server.client.send(
        "POST", "/tickets/T-1/events", key: fixture.keys["acme"], headers: ["Idempotency-Key": "crash-1"],
        body: Array(body.utf8))
    }
    fixture.server.process.waitUntilExit()
    #expect(fixture.server.process.terminationReason == .uncaughtSignal)
    #expect(fixture.server.process.terminationStatus == SIGKILL)

    fixture.server.environment = [:]
    try fixture.server.restart()
    #expect(try fixture.position("T-1") == 2, "the batch was appended before the kill")
    let retry = try fixture.send(
      "POST", "/tickets/T-1/events", as: "acme", body: body, headers: ["Idempotency-Key": "crash-1"])
    #expect(retry.status == 201, "\(retry.text)")
    #expect(retry.headers["idempotent-replayed"] == "true")
    let answer = try retry.object()
    #expect(answer["firstPosition"] as? Int == 1 && answer["lastPosition"] as? Int == 2 && answer["count"] as? Int == 2)
    #expect(try fixture.position("T-1") == 2, "the retry appended nothing")
    // And again, from the stored answer.
    let again = try fixture.send(
      "POST", "/tickets/T-1/events", as: "acme", body: body, headers: ["Idempotency-Key": "crash-1"])
    #expect(again.body == retry.body)
    #expect(try fixture.position("T-1") == 2)
  }
}
