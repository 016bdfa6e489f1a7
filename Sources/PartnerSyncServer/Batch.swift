import Foundation
import HTTPTypes
import PartnerSync
import PartnerSyncDomain

/// A batch of one partner's events for one ticket, checked for format and author, ready to be
/// appended (once, when it carries an `Idempotency-Key`).
struct Batch: Sendable {
  let partner: String
  let ticket: String
  /// The body as JSON Lines.
  let document: [UInt8]
  /// Its events, in order.
  let events: [TicketEvent]
  let idempotencyKey: String?
  /// The hash of the request (see ``IdempotencyStore/fingerprint(ticket:body:)``).
  let fingerprint: String

  enum Outcome: Sendable {
    /// Appended now; the answer's body.
    case recorded(String)
    /// Appended by an earlier try with the same key; the first answer's body.
    case replayed(String)
    /// The ticket exists, the partner may not know it, and the batch would create it.
    case taken
    /// The key was used for another request.
    case keyReused
  }

  /// Appends the batch, or finds that an earlier try with the same key did; runs on the log queue.
  func append(
    to log: PartnerSyncLog, idempotency: IdempotencyStore, fault: ServerFault?
  ) throws(PartnerSyncError) -> Outcome {
    if let projection = try log.projection(ticket: ticket), !projection.isKnown(to: partner) {
      // Validated as for a ticket that does not exist, whose refusals it then gives.
      try PartnerSyncLog.inMemory(rules: log.rules).importJSONLines(document, keepingDecisions: false)
      return .taken
    }
    guard let key = idempotencyKey else {
      let result = try log.importJSONLines(document, keepingDecisions: false)
      return .recorded(Self.answer(ticket: ticket, first: result.firstPosition, last: result.lastPosition))
    }
    var now = Timestamp.now()
    if let earlier = idempotency.record(partner: partner, key: key) {
      guard earlier.request == fingerprint else { return .keyReused }
      if let answer = earlier.answer { return .replayed(answer) }
      if let found = try find(in: log, after: earlier.base, now: earlier.now) {
        let answer = Self.answer(ticket: ticket, first: found.first, last: found.last)
        try store(earlier, answer: answer, in: idempotency)
        return .replayed(answer)
      }
      // The earlier try never appended: this one does, under the earlier intent's time.
      now = Timestamp(microseconds: earlier.now)
    }
    let base = try PartnerSyncError.wrap { try log.store.version(of: ticket) }
    let intent = IdempotencyStore.Record(
      partner: partner, key: key, request: fingerprint, ticket: ticket, base: base, now: now.microseconds)
    try store(intent, answer: nil, in: idempotency)
    let result = try log.importJSONLines(document, now: now, keepingDecisions: false)
    if fault == .killAfterAppend { kill(getpid(), SIGKILL) }
    let answer = Self.answer(ticket: ticket, first: result.firstPosition, last: result.lastPosition)
    try store(intent, answer: answer, in: idempotency)
    return .recorded(answer)
  }

  /// The positions of this batch's events in the ticket's history after version `base`, stamped
  /// `now` where they carry no time; nil when they are not there.
  private func find(in log: PartnerSyncLog, after base: Int64, now: Int64) throws(PartnerSyncError) -> (
    first: Int64, last: Int64
  )? {
    let expected = events.map { event in
      var event = event
      if event.at == nil { event.at = Timestamp(microseconds: now) }
      return event
    }
    var later: [RecordedEvent] = []
    do {
      try log.forEachEvent(ticket: ticket) { if $0.version > base { later.append($0) } }
    } catch  where error.code == .unknownTicket {
      return nil
    }
    guard !expected.isEmpty, later.count >= expected.count else { return nil }
    for start in 0...(later.count - expected.count) {
      let run = later[start..<(start + expected.count)]
      if run.map(\.event) == expected { return (run.first!.position, run.last!.position) }
    }
    return nil
  }

  private func store(
    _ record: IdempotencyStore.Record, answer: String?, in idempotency: IdempotencyStore
  ) throws(PartnerSyncError) {
    var record = record
    record.answer = answer
    try PartnerSyncError.wrap { try idempotency.write(record) }
  }

  /// The answer to a recorded batch.
  static func answer(ticket: String, first: Int64, last: Int64) -> String {
    JSONValue.object([
      ("ticket", .string(ticket)),
      ("count", .number(Double(last - first + 1))),
      ("firstPosition", .number(Double(first))),
      ("lastPosition", .number(Double(last))),
    ]).jsonText
  }
}

/// A fault the server injects on purpose, to test what survives it; chosen with the environment
/// variable `PARTNERSYNC_SERVER_FAULT`, never set in production.
public enum ServerFault: String, Sendable {
  /// The process kills itself with SIGKILL right after a keyed batch is appended, before its
  /// answer is stored or sent.
  case killAfterAppend = "kill-after-append"
}

extension HTTPField.Name {
  /// `Idempotency-Key`: a retried POST with the same key returns the first answer.
  static var idempotencyKey: Self { Self("Idempotency-Key")! }
  /// `Idempotent-Replayed: true` marks an answer given again to a retry.
  static var idempotentReplayed: Self { Self("Idempotent-Replayed")! }
}
