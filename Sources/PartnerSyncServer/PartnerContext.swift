import Foundation
import Hummingbird

/// The context of a request: who it acts as, once the key is checked.
public struct PartnerContext: RequestContext {
  /// Hummingbird's own storage of the request's context.
  public var coreContext: CoreRequestContextStorage
  /// The partner of the request's key; nil before ``KeyAuthentication`` ran (or on open routes).
  public var partner: String?
  /// The request's key, once ``KeyAuthentication`` accepted it: a live stream checks it again.
  var key: String?

  /// A new context, with no partner yet.
  public init(source: Source) {
    coreContext = .init(source: source)
    partner = nil
  }

  /// Bodies are read by the routes themselves, with the server's own limit.
  public var maxUploadSize: Int { ServerLimits.default.maximumBody }
}

extension PartnerContext {
  /// The authenticated partner.
  /// - Throws: a 401 ``Problem`` when there is none (a route outside ``KeyAuthentication``).
  func requirePartner() throws -> String {
    guard let partner else { throw Problem.unauthorized("this request needs an API key") }
    return partner
  }
}

/// Authenticates a request by its `Authorization: Bearer KEY` header: the request then acts as
/// the key's partner. No key, a malformed header, an unknown or a revoked key: 401.
struct KeyAuthentication: RouterMiddleware {
  typealias Context = PartnerContext
  let keys: KeyCache

  func handle(
    _ request: Request, context: PartnerContext, next: (Request, PartnerContext) async throws -> Response
  ) async throws -> Response {
    guard let header = request.headers[.authorization] else {
      throw Problem.unauthorized("send the partner's API key as Authorization: Bearer KEY")
    }
    let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
    guard parts.count == 2, parts[0].lowercased() == "bearer" else {
      throw Problem.unauthorized("the Authorization header must be Bearer KEY")
    }
    // Spaces and tabs around the key, trimmed without Foundation's `trimmingCharacters`, which
    // bridges to `NSString` on every request.
    let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
    let text = parts[1].drop(while: blank)
    let key = String(text[..<(text.lastIndex { !blank($0) }.map(text.index(after:)) ?? text.startIndex)])
    let partner: String?
    do {
      partner = try keys.partner(of: key)
    } catch {
      throw Problem(.internalServerError, "the server cannot read its key file: \(error.message)")
    }
    guard let partner else {
      throw Problem.unauthorized("the API key is not valid (unknown or revoked); ask for a new one")
    }
    var context = context
    context.partner = partner
    context.key = key
    return try await next(request, context)
  }
}

extension Problem {
  /// A 401 that asks for a bearer key.
  static func unauthorized(_ detail: String) -> Problem {
    var problem = Problem(.unauthorized, detail)
    problem.headers[.wwwAuthenticate] = "Bearer realm=\"partnersync\""
    return problem
  }
}
