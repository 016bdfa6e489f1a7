/// The limits the server holds clients to.
public struct ServerLimits: Sendable {
  /// The largest request body, in bytes: a larger one is refused with 413 and nothing appended.
  public var maximumBody: Int
  /// How long a client may take to send a request's body: past it, 408 and nothing appended.
  public var bodyTimeout: Duration
  /// How long a connection may stay idle between requests before the server closes it.
  public var idleTimeout: Duration
  /// The most notifications one page of `GET /notifications` returns.
  public var maximumPage: Int

  /// The documented defaults: 1 MiB bodies sent within 10 seconds, idle connections closed after
  /// 60 seconds, pages of at most 1000 notifications.
  public static let `default` = ServerLimits(
    maximumBody: 1 << 20, bodyTimeout: .seconds(10), idleTimeout: .seconds(60), maximumPage: 1000)

  /// Limits of your own.
  public init(maximumBody: Int, bodyTimeout: Duration, idleTimeout: Duration, maximumPage: Int) {
    self.maximumBody = maximumBody
    self.bodyTimeout = bodyTimeout
    self.idleTimeout = idleTimeout
    self.maximumPage = maximumPage
  }
}
