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
  /// How often an open notification stream sends a comment, new notifications or not: a client
  /// that went away is noticed then (its connection closed, its reads of the log stopped), and
  /// proxies between keep the connection open.
  public var streamHeartbeat: Duration

  /// The documented defaults: 1 MiB bodies sent within 10 seconds, idle connections closed after
  /// 60 seconds, pages of at most 1000 notifications, a stream's heartbeat every 15 seconds.
  public static let `default` = ServerLimits(
    maximumBody: 1 << 20, bodyTimeout: .seconds(10), idleTimeout: .seconds(60), maximumPage: 1000)

  /// Limits of your own.
  public init(
    maximumBody: Int, bodyTimeout: Duration, idleTimeout: Duration, maximumPage: Int,
    streamHeartbeat: Duration = .seconds(15)
  ) {
    self.maximumBody = maximumBody
    self.bodyTimeout = bodyTimeout
    self.idleTimeout = idleTimeout
    self.maximumPage = maximumPage
    self.streamHeartbeat = streamHeartbeat
  }
}
