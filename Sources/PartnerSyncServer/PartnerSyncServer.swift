import Foundation
import Hummingbird
import Logging
import Metrics
import NIOCore
import PartnerSync
import PartnerSyncDomain
import Prometheus
import ServiceLifecycle
import UnixSignals

/// The HTTP server of a PartnerSync log: each partner, authenticated by its API key, records its
/// own events and reads its own version of the tickets it is engaged on, and nothing else.
///
/// ```swift
/// let server = try await PartnerSyncServer(
///   configuration: .init(logPath: "team.sqlite", host: "127.0.0.1", port: 8080), logger: logger)
/// try await server.run()  // until SIGTERM or SIGINT, then a graceful shutdown
/// ```
public struct PartnerSyncServer: Sendable {
  /// What the server serves, and where.
  public struct Configuration: Sendable {
    /// The log (created when missing): a SQLite file's path, or a PostgreSQL URL
    /// (`postgresql://user@host:port/dbname?log=NAME`, see `PartnerSyncLog.open(url:)`).
    public var logPath: String
    /// The path prefix of the server's own files: its API keys (`PREFIX.keys`) and the
    /// `Idempotency-Key`s of the batches it recorded (`PREFIX.idempotency`). By default the log's
    /// path; a PostgreSQL log needs one.
    public var statePath: String
    /// The address to bind (`127.0.0.1` by default: a reverse proxy terminates TLS in front).
    public var host: String
    /// The port to bind; 0 picks a free one (see `portFile`).
    public var port: Int
    /// A file the server writes the port it bound to, once it listens.
    public var portFile: String?
    /// The limits clients are held to.
    public var limits: ServerLimits
    /// How often a live notification stream looks for new notifications.
    public var streamInterval: Duration
    /// A fault to inject on purpose, for crash tests; nil in production.
    public var fault: ServerFault?

    /// A configuration with the default limits; `statePath` defaults to `logPath`.
    public init(
      logPath: String, statePath: String? = nil, host: String = "127.0.0.1", port: Int = 8080,
      portFile: String? = nil, limits: ServerLimits = .default, streamInterval: Duration = .milliseconds(200),
      fault: ServerFault? = nil
    ) {
      self.fault = fault
      self.logPath = logPath
      self.statePath = statePath ?? logPath
      self.host = host
      self.port = port
      self.portFile = portFile
      self.limits = limits
      self.streamInterval = streamInterval
    }
  }

  /// The configuration.
  public let configuration: Configuration
  /// The open log.
  public let log: PartnerSyncLog
  private let logger: Logger
  private let registry: PrometheusCollectorRegistry
  private let idempotency: IdempotencyStore
  private let stateLock: StateLock

  /// Opens (or creates) the log and takes the state path (one server at a time).
  /// - Parameter registry: Where the request metrics are kept, the registry a
  ///   `PrometheusMetricsFactory` given to `MetricsSystem.bootstrap` writes to; `/metrics` emits it.
  /// - Throws: ``PartnerSyncError`` when the log cannot be opened, with code `busy` when another
  ///   server uses the state path, `unusableLog` when a PostgreSQL log comes without a state path.
  public init(
    configuration: Configuration, logger: Logger, registry: PrometheusCollectorRegistry
  ) async throws(PartnerSyncError) {
    self.configuration = configuration
    self.logger = logger
    self.registry = registry
    // A log named by a URL (PostgreSQL's) is no path to put files beside.
    guard !(configuration.logPath.contains("://") && configuration.statePath == configuration.logPath) else {
      throw PartnerSyncError(
        .unusableLog,
        "a PostgreSQL log keeps no files of the server: give the configuration a statePath for its keys and Idempotency-Keys"
      )
    }
    // The log first: its own errors (a missing folder, not a log, a database down) come before
    // any file of the state is made.
    log = try await PartnerSyncLog.open(url: configuration.logPath, create: true)
    stateLock = try StateLock(statePath: configuration.statePath)
    idempotency = try PartnerSyncError.wrap { try IdempotencyStore(statePath: configuration.statePath) }
  }

  /// The router: open routes (`/health`, `/metrics`, `/openapi.json`), then every other route
  /// behind the key check.
  func router() -> Router<PartnerContext> {
    let router = Router(context: PartnerContext.self)
    // The metrics around the problems: every error they see is the problem answered.
    router.add(middleware: RequestMetrics())
    router.add(middleware: ProblemMiddleware())
    router.add(middleware: LogRequestsMiddleware(.info))
    router.get("health") { _, _ in
      TicketRoutes.json(.object([("status", .string("ok"))]))
    }
    let registry = registry
    router.get("metrics") { _, _ in
      Response(
        status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
        body: ResponseBody(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
    }
    router.get("openapi.json") { _, _ in
      Response(
        status: .ok, headers: [.contentType: "application/json"],
        body: ResponseBody(byteBuffer: ByteBuffer(bytes: OpenAPIDocument.bytes)))
    }
    let keys = KeyCache(store: KeyStore(logPath: configuration.statePath))
    let authenticated = router.group().add(middleware: KeyAuthentication(keys: keys))
    TicketRoutes(
      log: log, limits: configuration.limits, idempotency: idempotency, fault: configuration.fault
    ).add(to: authenticated)
    NotificationRoutes(log: log, limits: configuration.limits, interval: configuration.streamInterval, keys: keys)
      .add(to: authenticated)
    return router
  }

  /// Serves until SIGTERM or SIGINT, then shuts down gracefully: it stops accepting connections,
  /// ends live streams, and finishes the requests under way (an append is never cut in half).
  public func run() async throws {
    let portFile = configuration.portFile
    let logger = logger
    let application = Application(
      router: router(),
      server: .http1(configuration: .init(idleTimeout: TimeAmount(configuration.limits.idleTimeout))),
      configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "partnersync"),
      onServerRunning: { channel in
        let port = channel.localAddress?.port ?? 0
        logger.info("listening", metadata: ["port": "\(port)"])
        if let portFile {
          // Written whole, then renamed: whoever waits for the file reads a whole port.
          try? Data("\(port)\n".utf8).write(to: URL(fileURLWithPath: portFile), options: .atomic)
        }
      },
      logger: logger)
    let group = ServiceGroup(
      configuration: .init(services: [application], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    try await group.run()
  }
}

/// Turns the errors that are not problems yet (a route that does not exist, a wrong method) into
/// problem documents, so that every error the server answers is `application/problem+json`.
struct ProblemMiddleware: RouterMiddleware {
  typealias Context = PartnerContext

  func handle(
    _ request: Request, context: PartnerContext, next: (Request, PartnerContext) async throws -> Response
  ) async throws -> Response {
    do {
      return try await next(request, context)
    } catch let problem as Problem {
      throw problem
    } catch let error as PartnerSyncError {
      let problem = Problem(error)
      // The partner is told of the log's own failures in general words; the operator reads here
      // what happened.
      if problem.status == .internalServerError || [.busy, .unavailable].contains(error.code) {
        context.logger.log(
          level: problem.status == .internalServerError ? .error : .warning, "the log failed a request",
          metadata: ["code": "\(error.code.rawValue)", "error": "\(error.description)"])
      }
      throw problem
    } catch let error as HTTPError where error.status == .notFound {
      // No route: a path of the API with another method is 405, with the methods it allows.
      guard let allowed = Self.methods(of: request.uri.path), !allowed.contains(request.method) else {
        throw Problem(.notFound, "there is no \(request.uri.path) in this API; /openapi.json lists its paths")
      }
      var problem = Problem(
        .methodNotAllowed, "\(request.uri.path) takes \(allowed.map(\.rawValue).joined(separator: ", ")) only")
      problem.headers[.allow] = allowed.map(\.rawValue).joined(separator: ", ")
      throw problem
    } catch let error as HTTPError {
      throw Problem(error.status, error.body ?? error.status.reasonPhrase)
    } catch let error as any HTTPResponseError {
      throw Problem(error.status, error.status.reasonPhrase)
    } catch {
      context.logger.error("unexpected error", metadata: ["error": "\(error)"])
      throw Problem(.internalServerError, "the server failed unexpectedly; try again, and report it if it lasts")
    }
  }
}

extension ProblemMiddleware {
  /// The methods of the API's path that `path` is, or nil when it is none.
  static func methods(of path: String) -> [HTTPRequest.Method]? {
    let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
    switch (parts.count, parts.first) {
    case (1, "health"), (1, "metrics"), (1, "openapi.json"), (1, "notifications"): return [.get]
    case (2, "notifications") where parts.last == "stream": return [.get]
    case (3, "tickets") where !parts[parts.startIndex + 1].isEmpty:
      switch parts.last {
      case "events": return [.post]
      case "view", "audit": return [.get]
      default: return nil
      }
    default: return nil
    }
  }
}

/// The OpenAPI 3.1 document of the API, a resource of this module.
enum OpenAPIDocument {
  static let bytes: [UInt8] = {
    guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"),
      let data = try? Data(contentsOf: url)
    else { return Array(#"{"error":"the OpenAPI document is missing from the build"}"#.utf8) }
    return Array(data)
  }()
}
