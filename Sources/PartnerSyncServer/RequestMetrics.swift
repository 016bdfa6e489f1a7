import Dispatch
import Hummingbird
import Metrics
import Synchronization

/// Records each request in swift-metrics under the names of Hummingbird's `MetricsMiddleware`
/// (`hb.requests`, `http.server.request.duration`, `hb.request.errors`,
/// `http.server.active_requests`, by route, method and status), once the answer is made rather
/// than once its body is written: Hummingbird's middleware wraps every body in a closure to time
/// its writing, which sends the head, the body and the end of each answer in three writes to the
/// socket instead of one (a partner's view cost a third more CPU time that way).
struct RequestMetrics: RouterMiddleware {
  typealias Context = PartnerContext

  /// The metrics made so far, by route, method and status (making one looks up the backend's
  /// registry).
  private final class Cache: Sendable {
    struct Key: Hashable {
      let route: String
      let method: HTTPRequest.Method
      let status: Int
    }
    struct Endpoint: Sendable {
      let requests: Counter
      let duration: Timer
      let errors: Counter
    }
    let active = Mutex<[HTTPRequest.Method: Meter]>([:])
    let endpoints = Mutex<[Key: Endpoint]>([:])

    func activeRequests(_ method: HTTPRequest.Method) -> Meter {
      active.withLock { meters in
        if let meter = meters[method] { return meter }
        let meter = Meter(
          label: "http.server.active_requests", dimensions: [("http.request.method", method.description)])
        meters[method] = meter
        return meter
      }
    }

    func endpoint(_ key: Key) -> Endpoint {
      endpoints.withLock { endpoints in
        if let endpoint = endpoints[key] { return endpoint }
        let dimensions = [
          ("http.route", key.route), ("http.request.method", key.method.description),
          ("http.response.status_code", "\(key.status)"),
        ]
        let endpoint = Endpoint(
          requests: Counter(label: "hb.requests", dimensions: dimensions),
          duration: Timer(
            label: "http.server.request.duration", dimensions: dimensions, preferredDisplayUnit: .seconds),
          errors: Counter(
            label: "hb.request.errors",
            dimensions: [
              ("http.route", key.route), ("http.request.method", key.method.description),
              ("error.type", "\(key.status)"),
            ]))
        endpoints[key] = endpoint
        return endpoint
      }
    }
  }

  private let cache = Cache()

  func handle(
    _ request: Request, context: PartnerContext, next: (Request, PartnerContext) async throws -> Response
  ) async throws -> Response {
    let start = DispatchTime.now().uptimeNanoseconds
    let active = cache.activeRequests(request.method)
    active.increment()
    defer { active.decrement() }
    do {
      let response = try await next(request, context)
      let endpoint = cache.endpoint(
        .init(route: context.endpointPath ?? "Unknown", method: request.method, status: response.status.code))
      endpoint.requests.increment()
      endpoint.duration.recordNanoseconds(DispatchTime.now().uptimeNanoseconds - start)
      return response
    } catch {
      let status = (error as? any HTTPResponseError)?.status ?? .internalServerError
      let endpoint = cache.endpoint(
        .init(route: context.endpointPath ?? "NotFound", method: request.method, status: status.code))
      endpoint.requests.increment()
      endpoint.errors.increment()
      throw error
    }
  }
}
