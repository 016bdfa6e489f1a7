import Foundation
import Hummingbird
import NIOCore
import PartnerSync
import PartnerSyncDomain

/// The routes of one ticket: record events, the partner's view, the partner's audit.
struct TicketRoutes: Sendable {
  let log: PartnerSyncLog
  let limits: ServerLimits
  /// The keys of retried POSTs.
  let idempotency: IdempotencyStore
  /// A fault to inject, for crash tests (see ``ServerFault``).
  let fault: ServerFault?
  /// The answers of recent view requests.
  let views = ViewCache()

  func add(to group: RouterGroup<PartnerContext>) {
    group.post("tickets/:ticket/events") { request, context in try await record(request, context) }
    group.get("tickets/:ticket/view") { request, context in try await view(request, context) }
    group.get("tickets/:ticket/audit") { request, context in try await audit(request, context) }
  }

  /// `POST /tickets/{ticket}/events`: validates the body's events as `partnersync import` does
  /// and appends them all in one transaction, or none.
  func record(_ request: Request, _ context: PartnerContext) async throws -> Response {
    let partner = try context.requirePartner()
    let ticket = try ticketParameter(context)
    let body = try await readBody(request)
    let document = try Self.jsonLines(body)
    let events = try EventLines.parse(document)
    for (event, line) in events {
      guard event.ticket == ticket else {
        throw Problem(
          .unprocessableContent,
          "line \(line): the event is for ticket \(event.ticket); this request records events of ticket \(ticket) only",
          code: PartnerSyncError.Code.invalidEvent.rawValue, line: line)
      }
      guard event.by == partner else {
        throw Problem(
          .forbidden,
          "line \(line): the event is by \(event.by); a request with \(partner)'s key records only \(partner)'s events",
          line: line)
      }
    }
    let batch = Batch(
      partner: partner, ticket: ticket, document: document, events: events.map(\.event),
      idempotencyKey: request.headers[.idempotencyKey],
      fingerprint: IdempotencyStore.fingerprint(ticket: ticket, body: body))
    let log = log
    let idempotency = idempotency
    let fault = fault
    let outcome = try await log.perform { () throws(PartnerSyncError) in
      try batch.append(to: log, idempotency: idempotency, fault: fault)
    }
    switch outcome {
    case .recorded(let answer): return Self.json(text: answer, status: .created)
    case .replayed(let answer):
      var response = Self.json(text: answer, status: .created)
      response.headers[.idempotentReplayed] = "true"
      return response
    case .taken:
      throw Problem(
        .conflict, "ticket number \(ticket) is taken; record the ticket under another number (nothing was appended)")
    case .keyReused:
      throw Problem(
        .unprocessableContent,
        "this Idempotency-Key was used for another request; use a new key for a new request (nothing was appended)")
    }
  }

  /// `GET /tickets/{ticket}/view`: the ticket as the partner sees it, now or as of `at`.
  func view(_ request: Request, _ context: PartnerContext) async throws -> Response {
    let partner = try context.requirePartner()
    let ticket = try ticketParameter(context)
    let point = try Self.point(request.uri.queryParameters["at"].map(String.init))
    let engagement = try request.uri.queryParameters["engagement"].map { text in
      guard let number = Int(text), number >= 1 else {
        throw Problem(.badRequest, "engagement takes an engagement number from 1, not \(text)")
      }
      return number
    }
    let (log, views) = (log, views)
    let answer = try await log.perform { () throws(PartnerSyncError) in
      let position = try log.scopedPosition(of: point, ticket: ticket, as: partner)
      let key = ViewCache.Key(ticket: ticket, partner: partner, engagement: engagement, position: position)
      if let answer = views.answer(key) { return answer }
      let view = try Self.scopedView(
        log: log, ticket: ticket, partner: partner, position: position, engagement: engagement)
      let answer = ByteBuffer(string: view.json.jsonText)
      views.keep(answer, for: key)
      return answer
    }
    return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: answer))
  }

  /// The view of `ticket` for `partner` at `position`; a ticket the partner may not know (at that
  /// position) fails exactly as one that is not in the log.
  static func scopedView(
    log: PartnerSyncLog, ticket: String, partner: String, position: Int64, engagement: Int?
  ) throws(PartnerSyncError) -> TicketView {
    let projection = try log.scopedProjection(ticket: ticket, through: position, as: partner)
    do {
      var view = try projection.view(of: partner, engagement: engagement)
      view.position = position
      return view
    } catch {
      switch error {
      case .noEngagement: throw .notInLog(ticket)
      case .noSuchEngagement(_, _, let number):
        throw PartnerSyncError(.unknownPartner, "ticket \(ticket) has no engagement \(number) with \(partner)")
      }
    }
  }

  /// `GET /tickets/{ticket}/audit`: the decisions the partner may know of, of the ticket or of
  /// one entry.
  func audit(_ request: Request, _ context: PartnerContext) async throws -> Response {
    let partner = try context.requirePartner()
    let ticket = try ticketParameter(context)
    let point = try Self.point(request.uri.queryParameters["at"].map(String.init))
    let entry = request.uri.queryParameters["entry"].map(String.init)
    let decisions = try await log.audit(ticket: ticket, entry: entry, at: point, as: partner)
    return Self.json(.object([("ticket", .string(ticket)), ("decisions", .array(decisions.map(\.json)))]))
  }

  // MARK: Reading requests

  private func ticketParameter(_ context: PartnerContext) throws -> String {
    let raw = try context.parameters.require("ticket")
    // Foundation's decoding costs a view a few per cent; most ticket numbers have nothing to decode.
    return raw.utf8.contains(UInt8(ascii: "%")) ? raw.removingPercentEncoding ?? raw : raw
  }

  /// The whole body, at most the limit's bytes, sent within the body timeout.
  private func readBody(_ request: Request) async throws -> [UInt8] {
    let limit = limits.maximumBody
    if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
      throw Self.tooLarge(limit)
    }
    let timeout = limits.bodyTimeout
    let buffer = try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
      group.addTask {
        var request = request
        do {
          return try await request.collectBody(upTo: limit)
        } catch is NIOTooManyBytesError {
          throw Self.tooLarge(limit)
        }
      }
      group.addTask {
        try await Task.sleep(for: timeout)
        return nil
      }
      defer { group.cancelAll() }
      guard let first = try await group.next(), let buffer = first else {
        throw Problem(.requestTimeout, "the request body did not arrive within \(timeout); nothing was recorded")
      }
      return buffer
    }
    return Array(buffer.readableBytesView)
  }

  static func tooLarge(_ limit: Int) -> Problem {
    Problem(
      .contentTooLarge,
      "the body is larger than \(limit) bytes; send the events in several requests (each is all or nothing)")
  }

  /// The body as JSON Lines: a JSON array (its first non-blank byte is `[`) becomes one line per
  /// element, the element's own text (its line breaks made spaces), so that an error names the
  /// element by its 1-based index as its line, in the words `import` gives that line.
  static func jsonLines(_ body: [UInt8]) throws -> [UInt8] {
    guard body.first(where: { !Self.isBlank($0) }) == UInt8(ascii: "[") else { return body }
    if let elements = arrayElements(body) { return Array(elements.joined(separator: [0x0A])) }
    // Not an array whose elements can be told apart: the parser says where it goes wrong.
    let problem = "the body is not a valid JSON array"
    do {
      _ = try JSONParser.parse(body)
    } catch {
      throw Problem(
        .unprocessableContent, "\(problem): \(error.message) at byte \(error.offset + 1)",
        code: PartnerSyncError.Code.invalidEvent.rawValue)
    }
    throw Problem(.unprocessableContent, problem, code: PartnerSyncError.Code.invalidEvent.rawValue)
  }

  private static func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }

  /// The elements of the array `body` (whose first non-blank byte is `[`), each trimmed and with
  /// its line breaks made spaces; nil when the array's own commas and brackets do not close it
  /// (the elements are left for `import` to judge), or a string holds a raw line break.
  static func arrayElements(_ body: [UInt8]) -> [[UInt8]]? {
    var elements: [[UInt8]] = []
    var element: [UInt8] = []
    var (depth, inString, escaped, closed) = (0, false, false, false)
    var index = body.firstIndex(of: UInt8(ascii: "["))! + 1
    func finish() -> Bool {
      guard let first = element.firstIndex(where: { !isBlank($0) }) else { return false }
      let last = element.lastIndex { !isBlank($0) }!
      elements.append(element[first...last].map { $0 == 0x0A || $0 == 0x0D ? 0x20 : $0 })
      element.removeAll(keepingCapacity: true)
      return true
    }
    scan: while index < body.count {
      let byte = body[index]
      index += 1
      if inString {
        if byte == 0x0A || byte == 0x0D { return nil }
        (escaped, inString) = (!escaped && byte == UInt8(ascii: "\\"), escaped || byte != UInt8(ascii: "\""))
      } else {
        switch byte {
        case UInt8(ascii: "\""): inString = true
        case UInt8(ascii: "["), UInt8(ascii: "{"): depth += 1
        case UInt8(ascii: "]") where depth == 0:
          // `[]` holds no element; otherwise the last one must not be empty.
          closed = finish() || elements.isEmpty
          break scan
        case UInt8(ascii: "]"), UInt8(ascii: "}"):
          guard depth > 0 else { return nil }
          depth -= 1
        case UInt8(ascii: ",") where depth == 0:
          guard finish() else { return nil }
          continue scan
        default: break
        }
      }
      element.append(byte)
    }
    guard closed, body[index...].allSatisfy(isBlank) else { return nil }
    return elements
  }

  /// Reads `at`: digits are a position, anything else must be an RFC 3339 time.
  static func point(_ text: String?) throws -> PartnerSyncLog.Point {
    guard let text else { return .latest }
    let usage = "at takes a log position (a whole number from 1) or an RFC 3339 time such as 2026-03-02T09:00:00Z"
    if !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }) {
      guard let position = Int64(text) else {
        throw Problem(.badRequest, "at=\(text) is not a position of the log; \(usage)")
      }
      return .position(position)
    }
    switch Timestamp.parse(text) {
    case .success(let time): return .time(time)
    case .failure(let error):
      throw Problem(
        .badRequest, "at=\(text) is neither a log position nor an RFC 3339 time (\(error.message)); \(usage)")
    }
  }

  /// A JSON answer.
  static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
    json(text: value.jsonText, status: status)
  }

  /// A JSON answer given as text.
  static func json(text: String, status: HTTPResponse.Status = .ok) -> Response {
    Response(
      status: status, headers: [.contentType: "application/json"],
      body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
  }
}
