import Hummingbird
import PartnerSync
import PartnerSyncDomain

/// An error answered as an RFC 9457 problem document (`application/problem+json`).
///
/// Its members: `type` (`about:blank`: the status says what kind of problem it is), `title` (the
/// status's reason phrase), `status`, `detail` (one sentence: what is wrong and what to do), and,
/// where they apply, `code` (the library's ``PartnerSyncError/Code``) and `line` (the 1-based
/// line of the JSON Lines body, or element of the JSON array body, that is wrong).
public struct Problem: HTTPResponseError, Sendable {
  /// The status of the answer.
  public var status: HTTPResponse.Status
  /// One sentence: what is wrong and what to do.
  public var detail: String
  /// The library's error code, when the problem is one of its errors.
  public var code: String?
  /// The line of the body that is wrong.
  public var line: Int?
  /// Extra headers (`WWW-Authenticate` for a 401).
  public var headers: HTTPFields = [:]

  /// A problem with `status` and `detail`.
  public init(_ status: HTTPResponse.Status, _ detail: String, code: String? = nil, line: Int? = nil) {
    self.status = status
    self.detail = detail
    self.code = code
    self.line = line
  }

  /// The problem of a library error: its status from its code, its message (with its line, as
  /// `partnersync import` names it) as the detail. The failures of the server's own log (its
  /// database unreachable or busy, its file unusable) are told in general words instead: their
  /// messages name the server's files, database host and role, which are not the partners' to
  /// know (the server logs them).
  public init(_ error: PartnerSyncError) {
    let status: HTTPResponse.Status =
      switch error.code {
      case .invalidEvent: .unprocessableContent
      case .versionConflict: .conflict
      case .busy, .unavailable, .positionNotReached: .serviceUnavailable
      // A point outside the log: nothing of the log is there, as for a ticket not in it yet.
      case .unknownTicket, .unknownPartner, .unknownEntry, .outOfRange: .notFound
      case .logNotFound, .unusableLog, .readOnly, .corruptLog, .storage, .deliveryFailed: .internalServerError
      }
    let detail =
      switch error.code {
      case .busy: "the log is busy with another writer; retry in a moment (a batch was not appended)"
      case .unavailable: "the log's database cannot be reached; retry in a moment (a batch was not appended)"
      case .logNotFound, .unusableLog, .readOnly, .corruptLog, .storage, .deliveryFailed:
        "the server cannot use its log; tell the server's operator if it lasts (a batch was not appended)"
      default: error.description
      }
    self.init(status, detail, code: error.code.rawValue, line: error.line)
    if [.versionConflict, .busy, .unavailable, .positionNotReached].contains(error.code) { headers[.retryAfter] = "1" }
  }

  /// The problem document.
  var json: JSONValue {
    var members: [(key: String, value: JSONValue)] = [
      ("type", .string("about:blank")),
      ("title", .string(status.reasonPhrase)),
      ("status", .number(Double(status.code))),
      ("detail", .string(detail)),
    ]
    if let code { members.append(("code", .string(code))) }
    if let line { members.append(("line", .number(Double(line)))) }
    return .object(members)
  }

  /// The answer to a request that failed with this problem.
  public func response(from request: Request, context: some RequestContext) throws -> Response {
    var fields = headers
    fields[.contentType] = "application/problem+json"
    return Response(
      status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: json.jsonText)))
  }
}
