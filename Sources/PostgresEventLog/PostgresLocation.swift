import Foundation

/// Where a PostgreSQL event log lives: a `postgresql://` URL naming the server, the database and,
/// with `log=NAME`, one of the logs in it.
///
/// `postgresql://user@host:5432/dbname?log=acme` names the log `acme` in the database `dbname`;
/// without `log=` the log is `main`. Every other query parameter is libpq's
/// (`sslmode=require`, `connect_timeout=10`, …). Each log is a schema of its own,
/// `partnersync_NAME`, with its own positions and hash chain.
public struct PostgresLocation: Sendable, Hashable, CustomStringConvertible {
  /// The log's name: lowercase ASCII letters, digits and `_`, 1 to 40 of them.
  public let logName: String

  /// The connection string handed to libpq: the URL without `log=`.
  public let connectionURL: String

  /// The URL without its password, for messages.
  public let description: String

  /// The schema that holds the log.
  public var schema: String { "partnersync_" + logName }

  /// Whether `text` is a PostgreSQL URL (`postgresql://` or `postgres://`), rather than a path.
  public static func isURL(_ text: String) -> Bool {
    text.hasPrefix("postgresql://") || text.hasPrefix("postgres://")
  }

  /// Reads a `postgresql://` URL.
  ///
  /// - Throws: ``PostgresLocation/Invalid`` when `url` is not a PostgreSQL URL or names an invalid
  ///   log, saying why.
  public init(url: String) throws(Invalid) {
    guard Self.isURL(url), var components = URLComponents(string: url) else {
      throw Invalid(message: "\(url) is not a PostgreSQL URL such as postgresql://user@host:5432/dbname?log=NAME")
    }
    let logItems = components.queryItems?.filter { $0.name == "log" } ?? []
    guard logItems.count <= 1 else {
      throw Invalid(message: "the URL names log= more than once; name one log")
    }
    let name = logItems.first?.value ?? "main"
    guard (1...40).contains(name.utf8.count),
      name.utf8.allSatisfy({
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (48...57).contains($0) || $0 == 95
      })
    else {
      throw Invalid(
        message: "the log name '\(name)' is not valid; use 1 to 40 lowercase letters, digits and _ (log=acme_eu)")
    }
    logName = name
    let others = components.queryItems?.filter { $0.name != "log" } ?? []
    components.queryItems = others.isEmpty ? nil : others
    connectionURL = components.string ?? url
    if components.password != nil { components.password = "***" }
    components.queryItems = [URLQueryItem(name: "log", value: name)] + others
    description = components.string ?? "a PostgreSQL database"
  }

  /// Why a URL does not name a PostgreSQL log.
  public struct Invalid: Error, Sendable, CustomStringConvertible {
    /// One sentence: what is wrong and what to do.
    public var message: String
    /// The message.
    public var description: String { message }
  }
}
